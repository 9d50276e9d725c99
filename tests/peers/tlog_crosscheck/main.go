// tlog_crosscheck: Go's reference transparency-log code (golang.org/x/mod/sumdb/tlog and sumdb/note, as
// packaged by Debian) checks what medledger's C++ produced, and produces trees, proofs and a signed note for
// the C++ side to check. Driven by tests/unit/tlog/go_crosscheck_test.cpp.
//
// Build: GO111MODULE=off GOPATH=/usr/share/gocode go build -o BUILD_DIR/tlog_crosscheck .
//
//	tlog_crosscheck verify FILE     check every line of FILE (written by the C++ test); print "ok <n>"
//	tlog_crosscheck generate N FILE write Go's own tree of N leaves, proofs and a signed checkpoint to FILE
//
// File format, one item per line, fields separated by spaces, bytes in standard base64:
//
//	leaf <data>
//	root <size> <hash>
//	inclusion <index> <size> <root> <proof hash>...
//	consistency <m> <n> <root m> <root n> <proof hash>...
//	tile <level> <n> <width> <data>
//	vkey <verifier key>
//	skey <signer key>
//	note <signed note>
//	bad-note <signed note that must NOT verify>
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type memory struct{ hashes []tlog.Hash }

func (m *memory) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

func (m *memory) add(n int64, data []byte) {
	hs, err := tlog.StoredHashes(n, data, m)
	if err != nil {
		fail("StoredHashes: %v", err)
	}
	m.hashes = append(m.hashes, hs...)
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlog_crosscheck: "+format+"\n", args...)
	os.Exit(1)
}

func b64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		fail("bad base64 %q: %v", s, err)
	}
	return b
}

func hash(s string) tlog.Hash {
	h, err := tlog.ParseHash(s)
	if err != nil {
		fail("bad hash %q: %v", s, err)
	}
	return h
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		fail("bad number %q", s)
	}
	return n
}

func hashes(fields []string) []tlog.Hash {
	out := make([]tlog.Hash, len(fields))
	for i, f := range fields {
		out[i] = hash(f)
	}
	return out
}

func verify(path string) {
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	var tree memory
	var leaves [][]byte
	var verifiers []note.Verifier
	checks := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "leaf":
			data := []byte{}
			if len(fields) > 1 {
				data = b64(fields[1])
			}
			tree.add(int64(len(leaves)), data)
			leaves = append(leaves, data)
		case "root":
			got, err := tlog.TreeHash(num(fields[1]), &tree)
			if err != nil || got != hash(fields[2]) {
				fail("line %d: root of size %s: Go computes %v (%v), C++ says %s", line, fields[1], got, err, fields[2])
			}
			checks++
		case "inclusion":
			index, size := num(fields[1]), num(fields[2])
			proof := tlog.RecordProof(hashes(fields[4:]))
			if err := tlog.CheckRecord(proof, size, hash(fields[3]), index, tlog.RecordHash(leaves[index])); err != nil {
				fail("line %d: inclusion %d in %d: %v", line, index, size, err)
			}
			want, err := tlog.ProveRecord(size, index, &tree)
			if err != nil || len(want) != len(proof) {
				fail("line %d: Go's own proof differs in length", line)
			}
			for i := range want {
				if want[i] != proof[i] {
					fail("line %d: Go's own inclusion proof differs at %d", line, i)
				}
			}
			checks++
		case "consistency":
			m, n := num(fields[1]), num(fields[2])
			proof := tlog.TreeProof(hashes(fields[5:]))
			if err := tlog.CheckTree(proof, n, hash(fields[4]), m, hash(fields[3])); err != nil {
				fail("line %d: consistency %d -> %d: %v", line, m, n, err)
			}
			checks++
		case "tile":
			t := tlog.Tile{H: 8, L: int(num(fields[1])), N: num(fields[2]), W: int(num(fields[3]))}
			want, err := tlog.ReadTileData(t, &tree)
			if err != nil || base64.StdEncoding.EncodeToString(want) != fields[4] {
				fail("line %d: tile %v differs from Go's (%v)", line, t.Path(), err)
			}
			checks++
		case "vkey":
			v, err := note.NewVerifier(fields[1])
			if err != nil {
				fail("line %d: Go refuses the verifier key: %v", line, err)
			}
			verifiers = append(verifiers, v)
			checks++
		case "note", "bad-note":
			msg := b64(fields[1])
			n, err := note.Open(msg, note.VerifierList(verifiers...))
			if fields[0] == "bad-note" {
				if err == nil {
					fail("line %d: Go accepts a note that must fail", line)
				}
			} else {
				if err != nil {
					fail("line %d: Go refuses the note: %v", line, err)
				}
				if len(n.Sigs) == 0 {
					fail("line %d: no verified signature", line)
				}
				// A checkpoint body: check the root against Go's tree when its size is known.
				lines := strings.Split(n.Text, "\n")
				if len(lines) >= 3 {
					size := num(lines[1])
					if size > 0 && size <= int64(len(leaves)) {
						got, _ := tlog.TreeHash(size, &tree)
						if got.String() != lines[2] {
							fail("line %d: the checkpoint's root is not Go's root of size %d", line, size)
						}
					}
				}
			}
			checks++
		default:
			fail("line %d: unknown item %q", line, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		fail("%v", err)
	}
	fmt.Printf("ok %d\n", checks)
}

func generate(n int64, path string) {
	var tree memory
	var out strings.Builder
	for i := int64(0); i < n; i++ {
		data := []byte(fmt.Sprintf("go leaf %d %s", i, strings.Repeat("g", int(i%19))))
		tree.add(i, data)
		fmt.Fprintf(&out, "leaf %s\n", base64.StdEncoding.EncodeToString(data))
	}
	roots := map[int64]tlog.Hash{}
	for size := int64(1); size <= n; size++ {
		h, err := tlog.TreeHash(size, &tree)
		if err != nil {
			fail("TreeHash: %v", err)
		}
		roots[size] = h
		fmt.Fprintf(&out, "root %d %v\n", size, h)
	}
	for size := int64(1); size <= n; size += 1 + size/3 {
		for index := int64(0); index < size; index += 1 + size/5 {
			p, err := tlog.ProveRecord(size, index, &tree)
			if err != nil {
				fail("ProveRecord: %v", err)
			}
			fmt.Fprintf(&out, "inclusion %d %d %v", index, size, roots[size])
			for _, h := range p {
				fmt.Fprintf(&out, " %v", h)
			}
			out.WriteString("\n")
		}
		for m := int64(1); m <= size; m += 1 + m/2 {
			p, err := tlog.ProveTree(size, m, &tree)
			if err != nil {
				fail("ProveTree: %v", err)
			}
			fmt.Fprintf(&out, "consistency %d %d %v %v", m, size, roots[m], roots[size])
			for _, h := range p {
				fmt.Fprintf(&out, " %v", h)
			}
			out.WriteString("\n")
		}
	}
	const origin = "go.example/crosscheck"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		fail("GenerateKey: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		fail("NewSigner: %v", err)
	}
	text := fmt.Sprintf("%s\n%d\n%v\n", origin, n, roots[n])
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		fail("Sign: %v", err)
	}
	fmt.Fprintf(&out, "skey %s\nvkey %s\nnote %s\n", skey, vkey, base64.StdEncoding.EncodeToString(msg))
	if err := os.WriteFile(path, []byte(out.String()), 0o600); err != nil {
		fail("%v", err)
	}
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "verify":
		verify(os.Args[2])
	case len(os.Args) == 4 && os.Args[1] == "generate":
		generate(num(os.Args[2]), os.Args[3])
	default:
		fmt.Fprintln(os.Stderr, "usage: tlog_crosscheck verify FILE | generate N FILE")
		os.Exit(2)
	}
}
