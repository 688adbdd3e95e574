package kb

import (
	"hash/maphash"
	"unicode/utf8"
)

// deletionIndex is a symmetric-delete index for edit distance one: it maps
// every source string and its one-rune deletions (deletions) to the
// positions of the sources they come from. It keeps 64-bit hashes of the
// variants, not the variants, which is most of what the strings cost; a
// lookup checks every hit against its source, so a hash collision costs a
// comparison and never yields a wrong candidate.
type deletionIndex struct {
	seed maphash.Seed
	// one holds the variants that come from a single source, the most;
	// more the others, with their sources in the order they were added.
	one  map[uint64]int32
	more map[uint64][]int32
}

func newDeletionIndex() *deletionIndex {
	return &deletionIndex{seed: maphash.MakeSeed(), one: map[uint64]int32{}, more: map[uint64][]int32{}}
}

// add indexes the deletions of the source at position pos.
func (x *deletionIndex) add(source string, pos int32) {
	for _, del := range deletions(source) {
		h := maphash.String(x.seed, del)
		if ps, ok := x.more[h]; ok {
			if ps[len(ps)-1] != pos {
				x.more[h] = append(ps, pos)
			}
			continue
		}
		if p, ok := x.one[h]; ok {
			if p != pos {
				delete(x.one, h)
				x.more[h] = []int32{p, pos}
			}
			continue
		}
		x.one[h] = pos
	}
}

// lookup calls found with the position of every source that del is a
// deletion of (or equal to), in the order the sources were added.
func (x *deletionIndex) lookup(del string, source func(int32) string, found func(int32)) {
	h := maphash.String(x.seed, del)
	if p, ok := x.one[h]; ok {
		if isDeletion(del, source(p)) {
			found(p)
		}
		return
	}
	for _, p := range x.more[h] {
		if isDeletion(del, source(p)) {
			found(p)
		}
	}
}

// isDeletion reports whether del is one of deletions(src): src itself, or
// src with one rune removed when src has four runes or more.
func isDeletion(del, src string) bool {
	if del == src {
		return true
	}
	if len(src) <= len(del) || utf8.RuneCountInString(src) < 4 {
		return false
	}
	// Skip the first rune where they differ; the rest must be equal.
	i := 0
	for i < len(del) && del[i] == src[i] {
		i++
	}
	// Back up to the start of the rune the difference is in.
	for i > 0 && !utf8.RuneStart(src[i]) {
		i--
	}
	_, size := utf8.DecodeRuneInString(src[i:])
	return del[i:] == src[i+size:]
}
