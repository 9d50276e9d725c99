#!/usr/bin/env python3
"""Checks that the library diagram of docs/ARCHITECTURE.md ("Every library and its direct dependencies") is the
CMake graph: every edge drawn exists, and every edge between medledger's own targets is drawn.

    scripts/check_architecture.py BUILD_DIR      (a configured build directory; scripts/test.sh passes its own)

CMake writes the graph itself (--graphviz), so the check reads what the build links, not a second parse of the
CMakeLists. Exit 1 with the differences when the two disagree.
"""
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"

# CMake target -> the name the diagram uses; None: not drawn (everything reaches common; the fault-injecting Env
# is for tests; the HTTP server object is a part of http).
NAMES = {
    "medledger": "medledger (app)",
    "medledger-chaincode": "medledger-chaincode",
    "medledger_ledger_api": "ledger (interface)",
    "medledger_ledger_embedded": "ledger/embedded",
    "medledger_ledger_fabric": "ledger/fabric",
    "medledger_ledger_storage": "ledger/storage",
    "medledger_ledger_wire": "ledger/wire",
    "medledger_proto": "proto",
    "medledger_proto_grpc": "proto",
    "medledger_common": None,
    "medledger_io_fault_injection": None,
    "medledger_http_server": None,
}


def drawn_name(target):
    if target in NAMES:
        return NAMES[target]
    if target.startswith("medledger_"):
        return target[len("medledger_"):]
    return None


def cmake_edges(build_dir):
    with tempfile.TemporaryDirectory() as tmp:
        dot = pathlib.Path(tmp) / "graph.dot"
        subprocess.run(["cmake", f"--graphviz={dot}", str(build_dir)], check=True, stdout=subprocess.DEVNULL)
        text = dot.read_text()
    labels = dict(re.findall(r'"(node\d+)"\s*\[\s*label\s*=\s*"([^"]+)"', text))
    edges = set()
    for src, dst in re.findall(r'"(node\d+)"\s*->\s*"(node\d+)"', text):
        a, b = drawn_name(labels.get(src, "")), drawn_name(labels.get(dst, ""))
        # http_server is part of http: its edges are http's.
        if labels.get(src) == "medledger_http_server":
            a = "http"
        if labels.get(dst) == "medledger_http_server":
            continue
        if a and b and a != b:
            edges.add((a, b))
    return edges


def doc_edges():
    text = DOC.read_text()
    start = text.index("Every library and its direct dependencies")
    block = text[start:text.index("```", start)].splitlines()[1:]
    edges = set()
    sources = []
    for line in block:
        if not line.strip():
            continue
        if "->" in line:
            left, right = line.split("->", 1)
            sources = [s.strip() for s in left.split(",") if s.strip()]
        else:
            right = line  # a continuation of the previous line's dependencies
        for dep in right.split(","):
            dep = re.sub(r"\(.*?\)", "", dep).strip()
            if dep == "ledger":
                dep = "ledger (interface)"  # the one name whose parenthesis is part of it
            if dep and dep != "common":
                for src in sources:
                    edges.add((src, dep))
    return edges


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    built = cmake_edges(sys.argv[1])
    drawn = doc_edges()
    ok = True
    for a, b in sorted(drawn - built):
        print(f"check_architecture: docs/ARCHITECTURE.md draws {a} -> {b}, which CMake does not link")
        ok = False
    for a, b in sorted(built - drawn):
        print(f"check_architecture: CMake links {a} -> {b}, which docs/ARCHITECTURE.md does not draw")
        ok = False
    if ok:
        print(f"check_architecture: the diagram's {len(drawn)} edges are CMake's")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
