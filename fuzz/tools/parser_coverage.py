#!/usr/bin/env python3
"""Line and branch coverage of a fuzz target's parser files, from one replay's profile.

  parser_coverage.py BINARY PROFDATA "FILE..." ["EXCLUDE_REGEX"]

Prints "LINES% BRANCHES% LINES_EXCL% BRANCHES_EXCL%": over the whole files, then without the functions whose
demangled name matches EXCLUDE_REGEX (code in a parser's file that parses nothing, such as a token signer
beside the verifier; scripts/fuzz_coverage.sh names them and docs/FUZZING.md says why). Lines are counted as
llvm-cov's text view counts them, branches as its report does (each branch has a true and a false outcome).
"""
import json
import os
import re
import subprocess
import sys

COV = "llvm-cov-14"


def main():
    binary, profdata, files = sys.argv[1], sys.argv[2], sys.argv[3].split()
    exclude = re.compile(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else None

    def wanted(path):
        return any(path.endswith("/" + f) for f in files)

    export = json.loads(subprocess.run([COV, "export", "-format=text", binary, "-instr-profile=" + profdata],
                                       check=True, capture_output=True, text=True).stdout)["data"][0]
    # Line spans of excluded functions, per file.
    spans = {}
    if exclude:
        fns = [f for f in export["functions"] if any(wanted(n) for n in f["filenames"])]
        names = subprocess.run(["c++filt"], input="\n".join(f["name"] for f in fns), check=True,
                               capture_output=True, text=True).stdout.splitlines()
        for fn, name in zip(fns, names):
            if exclude.search(name) and fn["regions"]:
                start, end = fn["regions"][0][0], fn["regions"][0][2]
                spans.setdefault(os.path.normpath(fn["filenames"][0]), []).append((start, end))

    def excluded(path, line):
        return any(a <= line <= b for a, b in spans.get(os.path.normpath(path), []))

    # Lines: the text view's execution counts ("  12|     3|code"; no count = not executable).
    show = subprocess.run([COV, "show", "-format=text", binary, "-instr-profile=" + profdata],
                          check=True, capture_output=True, text=True).stdout
    totals = {"l": [0, 0, 0, 0], "b": [0, 0, 0, 0]}  # executable, covered; the same without exclusions
    current = None
    line_re = re.compile(r"^\s*(\d+)\|\s*([0-9.kMG]*)\|")
    for text in show.splitlines():
        if text.startswith("/") and text.endswith(":"):
            current = text[:-1] if wanted(text[:-1]) else None
            continue
        if current is None:
            continue
        m = line_re.match(text)
        if not m or not m.group(2):
            continue
        line, count = int(m.group(1)), m.group(2)
        hit = count != "0"
        totals["l"][0] += 1
        totals["l"][1] += hit
        if not excluded(current, line):
            totals["l"][2] += 1
            totals["l"][3] += hit
    for f in export["files"]:
        if not wanted(f["filename"]):
            continue
        for b in f.get("branches", []):
            outcomes = (b[4] > 0) + (b[5] > 0)
            totals["b"][0] += 2
            totals["b"][1] += outcomes
            if not excluded(f["filename"], b[0]):
                totals["b"][2] += 2
                totals["b"][3] += outcomes

    def pct(n, d):
        return f"{100.0 * n / d:.1f}%" if d else "-"

    l, b = totals["l"], totals["b"]
    print(pct(l[1], l[0]), pct(b[1], b[0]), pct(l[3], l[2]), pct(b[3], b[2]))


if __name__ == "__main__":
    main()
