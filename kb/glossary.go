package kb

import (
	"fmt"
	"strings"
)

// Glossary is the catalog's terminology (glossary.toml): one term per
// concept per language, and the names Microsoft retired.
type Glossary struct {
	// Retired are names no catalog text may use, in any language.
	Retired []string `toml:"retired"`
	Terms   []Term   `toml:"terms"`
	// Abbreviations are what admins shorten, matched as what they stand
	// for in each language.
	Abbreviations []Abbreviation `toml:"abbreviations"`
	// Unstemmed are words matched whole, not by their stem: words the
	// stemmer would merge with another concept ("authority" and
	// "authorized" both stem to "author").
	Unstemmed []string `toml:"unstemmed"`
}

// Abbreviation is a short form admins write ("CP", "ESP", "GCC") and what
// it stands for in each language's catalog text.
type Abbreviation struct {
	// Short are the forms, one word each, case ignored.
	Short []string `toml:"short"`
	Means Text     `toml:"means"`
}

// Term is one concept's word in each language, with the variants that
// must not be used instead.
type Term struct {
	Concept string `toml:"concept"`
	En      string `toml:"en"`
	Nl      string `toml:"nl"`
	Sv      string `toml:"sv"`
	De      string `toml:"de"`
	// Banned are variants per language that the catalog must not use.
	Banned List `toml:"banned"`
}

// In returns the term in lang.
func (t Term) In(lang Lang) string {
	switch lang {
	case Dutch:
		return t.Nl
	case Swedish:
		return t.Sv
	case German:
		return t.De
	}
	return t.En
}

// LintTerms reports catalog text that uses a retired name or a banned
// variant of a glossary term. Unlike the problems Load reports, these do
// not stop the catalog from loading: `enrollbot kb lint` and CI fail on
// them.
func (c *Catalog) LintTerms() Problems {
	var probs Problems
	c.lintTerms(func(file, field, format string, args ...any) {
		probs = append(probs, Problem{File: file, Field: field, Msg: fmt.Sprintf(format, args...)})
	})
	return probs
}

// lintTerms reports catalog text that uses a retired name or a banned
// variant. Device messages and symptoms are exempt: they are what devices
// show and users type.
func (c *Catalog) lintTerms(add func(file, field, format string, args ...any)) {
	g := c.Glossary
	if g == nil {
		return
	}
	for i, t := range g.Terms {
		for _, l := range Langs {
			if t.In(l) == "" {
				add("glossary.toml", fmt.Sprintf("terms[%d].%s", i, l), "no term for %q", t.Concept)
			}
		}
	}
	check := func(file, field string, lang Lang, text string, keeps []string) {
		lower := strings.ToLower(text)
		for _, r := range g.Retired {
			if containsTerm(lower, strings.ToLower(r)) && !containsFold(keeps, r) {
				add(file, field, "retired name %q (%s)", r, lang)
			}
		}
		for _, t := range g.Terms {
			for _, b := range t.Banned[lang] {
				if containsTerm(lower, strings.ToLower(b)) {
					add(file, field, "%q: the glossary's %s term is %q", b, lang, t.In(lang))
				}
			}
		}
	}
	for _, e := range c.Entries {
		for _, l := range Langs {
			check(e.file, "title."+string(l), l, e.Title[l], e.Keeps)
			for _, c := range e.Collect[l] {
				check(e.file, "collect."+string(l), l, c, e.Keeps)
			}
			for i, cause := range e.Causes {
				field := fmt.Sprintf("causes[%d].", i)
				check(e.file, field+"summary."+string(l), l, cause.Summary[l], e.Keeps)
				for _, s := range cause.Steps[l] {
					check(e.file, field+"steps."+string(l), l, s, e.Keeps)
				}
				for _, n := range cause.Notes[l] {
					check(e.file, field+"notes."+string(l), l, n, e.Keeps)
				}
			}
		}
	}
	for i, code := range c.Codes {
		for _, l := range Langs {
			check("codes.toml", fmt.Sprintf("codes[%d].meaning.%s", i, l), l, code.Meaning[l], nil)
		}
	}
}

// containsTerm reports term in text as whole words: "aad" is no part of
// "maadsen".
func containsTerm(text, term string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], term)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(term)
		before := start == 0 || !isWordByte(text[start-1])
		after := end == len(text) || !isWordByte(text[end])
		if before && after {
			return true
		}
		from = start + 1
	}
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b >= 0x80
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
