package kb

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// TestIsDeletion checks isDeletion against deletions on strings made of a
// few runes (ASCII and multi-byte, so that runs repeat and bytes differ).
func TestIsDeletion(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aabé€ö")
	randWord := func(n int) string {
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(rs)
	}
	for range 20000 {
		src := randWord(1 + r.IntN(7))
		del := randWord(r.IntN(8))
		if r.IntN(2) == 0 {
			// Often an actual deletion, to exercise the true side.
			rs := []rune(src)
			i := r.IntN(len(rs))
			del = string(append(slices.Clone(rs[:i]), rs[i+1:]...))
		}
		want := slices.Contains(deletions(src), del)
		if got := isDeletion(del, src); got != want {
			t.Fatalf("isDeletion(%q, %q) = %v, want %v", del, src, got, want)
		}
	}
}

// TestTypoAlternativesAsStringIndex compares the hashed deletion indexes
// with the plain one they replace (every variant kept as a string), on
// every catalog word with a rune dropped, doubled, replaced or swapped:
// the same candidates, in the same order.
func TestTypoAlternativesAsStringIndex(t *testing.T) {
	m := NewMatcher(builtin(t))
	for _, lang := range Langs {
		li := m.index(lang)
		li.typoOnce.Do(li.buildTypos)
		deletes, raw := map[string][]string{}, map[string][]string{}
		for _, term := range li.typoTerms {
			for _, del := range deletions(term) {
				deletes[del] = append(deletes[del], term)
			}
		}
		for _, wt := range li.typoWords {
			for _, del := range deletions(wt[0]) {
				if !slices.Contains(raw[del], wt[1]) {
					raw[del] = append(raw[del], wt[1])
				}
			}
		}
		reference := func(s string) []string {
			var out []string
			for _, index := range []map[string][]string{deletes, raw} {
				if n := utf8.RuneCountInString(s); n < minTypoRunes || n > maxTypoRunes {
					continue
				}
				for _, del := range deletions(s) {
					for _, c := range index[del] {
						if !slices.Contains(out, c) {
							out = append(out, c)
						}
					}
				}
			}
			return out
		}
		probes := 0
		for _, wt := range li.typoWords {
			rs := []rune(wt[0])
			variants := []string{wt[0]}
			for i := range rs {
				variants = append(variants,
					string(append(slices.Clone(rs[:i]), rs[i+1:]...)),
					string(slices.Insert(slices.Clone(rs), i, rs[i])),
					string(append(append(slices.Clone(rs[:i]), 'x'), rs[i+1:]...)))
				if i+1 < len(rs) {
					sw := slices.Clone(rs)
					sw[i], sw[i+1] = sw[i+1], sw[i]
					variants = append(variants, string(sw))
				}
			}
			for _, v := range variants {
				probes++
				if got, want := li.typoAlternatives(v, v), reference(v); !slices.Equal(got, want) {
					t.Fatalf("%s %q: %q, the string index gives %q", lang, v, got, want)
				}
			}
		}
		if probes < 1000 {
			t.Fatalf("%s: only %d probes", lang, probes)
		}
	}
}
