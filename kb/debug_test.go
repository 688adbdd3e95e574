package kb

import (
	"fmt"
	"os"
	"testing"
)

func TestDebugQuery(t *testing.T) {
	q := os.Getenv("QUERY")
	if q == "" {
		t.Skip()
	}
	c, _ := LoadBuiltin()
	m := NewMatcher(c)
	for _, lang := range Langs {
		li := m.idx[lang]
		terms := m.an.terms(q, lang)
		fmt.Println(lang, terms)
		for _, t := range terms {
			fmt.Printf("  %s idf=%.2f alts=%v\n", t, li.idf[t], li.typoAlternatives(t, t))
		}
		for i, s := range m.scoreText(q, lang, nil).score {
			if s > 0.2 {
				fmt.Printf("  %.3f %s\n", s, c.Entries[i].ID)
			}
		}
	}
	r := m.Match(q)
	fmt.Println(r.Outcome, r.Lang, r.Platform)
}
