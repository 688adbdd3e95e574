package kb

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed catalog/checklist.toml catalog/codes.toml catalog/conversation.toml catalog/scope.toml catalog/glossary.toml catalog/entries
var builtinFS embed.FS

// BuiltinFS returns the catalog files compiled into the binary, rooted so that
// Load can read them.
func BuiltinFS() fs.FS {
	sub, err := fs.Sub(builtinFS, "catalog")
	if err != nil {
		// fs.Sub fails only on an invalid path literal: a programming error.
		panic(err)
	}
	return sub
}

// LoadBuiltin loads and validates the embedded catalog: from its Go
// literals (catalog_gen.go, written by go generate) when there are, which
// spares a one-off command parsing and decoding; else from the TOML files.
// TestBuiltinSnapshotIsCurrent fails when the two differ.
func LoadBuiltin() (*Catalog, error) {
	if builtinSnapshot != nil {
		c, err := fromSnapshot(builtinSnapshot(), nil)
		if err != nil {
			return nil, err
		}
		// The prebuilt index comes from the same files as the snapshot.
		c.prebuilt = builtinPrebuilt
		c.builtFor.entries = slices.Clone(c.Entries)
		c.builtFor.questions = slices.Clone(c.Questions)
		return c, nil
	}
	return Load(BuiltinFS())
}

// Problem is one validation finding, naming the file and field at fault.
type Problem struct {
	File  string
	Field string
	Msg   string
}

func (p Problem) String() string {
	if p.Field == "" {
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", p.File, p.Field, p.Msg)
}

// Problems is every finding of one load; it is the error Load returns when
// the catalog is invalid, so callers can print all of them at once.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return fmt.Sprintf("%d catalog problem(s):\n%s", len(ps), strings.Join(lines, "\n"))
}

// Load reads checklist.toml, codes.toml, conversation.toml, scope.toml,
// glossary.toml and entries/**/*.toml from fsys, validates them together
// and builds the lookup tables. A catalog with problems is not returned:
// the error is a Problems listing all of them.
func Load(fsys fs.FS) (*Catalog, error) {
	s, probs, err := decodeAll(fsys)
	if err != nil {
		return nil, err
	}
	return fromSnapshot(s, probs)
}

// decodeAll decodes the catalog's files into a snapshot; an entry file
// that does not decode is a problem, not an error.
func decodeAll(fsys fs.FS) (snapshot, Problems, error) {
	var s snapshot
	var probs Problems

	var checklist struct {
		Questions []*Question `toml:"questions"`
	}
	if err := decodeFile(fsys, "checklist.toml", &checklist); err != nil {
		return s, nil, err
	}
	s.Questions = checklist.Questions

	var codes struct {
		Codes []*Code `toml:"codes"`
	}
	if err := decodeFile(fsys, "codes.toml", &codes); err != nil {
		return s, nil, err
	}
	s.Codes = codes.Codes

	s.Talk = &Talk{}
	if err := decodeFile(fsys, "conversation.toml", s.Talk); err != nil {
		return s, nil, err
	}
	var scope struct {
		Topics []*Topic `toml:"topics"`
	}
	if err := decodeFile(fsys, "scope.toml", &scope); err != nil {
		return s, nil, err
	}
	s.Topics = scope.Topics
	s.Glossary = &Glossary{}
	if err := decodeFile(fsys, "glossary.toml", s.Glossary); err != nil {
		return s, nil, err
	}

	files, err := entryFiles(fsys)
	if err != nil {
		return s, nil, err
	}
	for _, f := range files {
		e := &Entry{}
		if err := decodeFile(fsys, f, e); err != nil {
			var ps Problems
			if errors.As(err, &ps) {
				probs = append(probs, ps...)
				continue
			}
			return s, nil, err
		}
		s.Entries = append(s.Entries, e)
		s.Files = append(s.Files, f)
	}
	return s, probs, nil
}

// fromSnapshot validates a decoded catalog and builds its lookup tables.
func fromSnapshot(s snapshot, probs Problems) (*Catalog, error) {
	c := &Catalog{Questions: s.Questions, Codes: s.Codes, Talk: s.Talk, Topics: s.Topics,
		Glossary: s.Glossary, Entries: s.Entries}
	for i, e := range c.Entries {
		if i < len(s.Files) {
			e.file = s.Files[i]
		}
	}
	probs = append(probs, c.index()...)
	if len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

func entryFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, "entries", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && path.Ext(p) == ".toml" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list catalog entries: %w", err)
	}
	slices.Sort(files)
	return files, nil
}

// decodeFile decodes one TOML file strictly: a misspelt key is a problem,
// not silently ignored data.
func decodeFile(fsys fs.FS, name string, v any) error {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("read catalog file %s: %w", name, err)
	}
	md, err := toml.Decode(string(data), v)
	if err != nil {
		return Problems{{File: name, Msg: err.Error()}}
	}
	if und := md.Undecoded(); len(und) > 0 {
		var ps Problems
		for _, k := range und {
			ps = append(ps, Problem{File: name, Field: k.String(), Msg: "unknown field"})
		}
		return ps
	}
	return nil
}

var (
	idPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	hexPattern = regexp.MustCompile(`^0x[0-9a-f]{8}$`)
)

// index validates the decoded catalog and fills the lookup maps. It keeps
// going after a problem so that lint can report everything in one run.
func (c *Catalog) index() Problems {
	var probs Problems
	add := func(file, field, format string, args ...any) {
		probs = append(probs, Problem{File: file, Field: field, Msg: fmt.Sprintf(format, args...)})
	}

	if c.Glossary != nil {
		seen := map[string]bool{}
		for i, a := range c.Glossary.Abbreviations {
			field := fmt.Sprintf("abbreviations[%d]", i)
			if len(a.Short) == 0 {
				add("glossary.toml", field+".short", "no short form")
			}
			for _, s := range a.Short {
				if toks := Tokens(s); len(toks) != 1 || toks[0] != strings.ToLower(s) || seen[toks[0]] {
					add("glossary.toml", field+".short", "%q is not one lower-case word, or is listed twice", s)
				} else {
					seen[toks[0]] = true
				}
			}
			checkText(a.Means, "glossary.toml", field+".means", add)
		}
	}

	c.questionBy = map[string]*Question{}
	for i, q := range c.Questions {
		field := fmt.Sprintf("questions[%d]", i)
		if !idPattern.MatchString(q.ID) {
			add("checklist.toml", field+".id", "invalid id %q", q.ID)
		}
		if _, dup := c.questionBy[q.ID]; dup {
			add("checklist.toml", field+".id", "duplicate question id %q", q.ID)
		}
		c.questionBy[q.ID] = q
		checkText(q.Text, "checklist.toml", field+".text", add)
		if len(q.Short) > 0 {
			checkText(q.Short, "checklist.toml", field+".short", add)
		}
		for j := range q.Options {
			o := &q.Options[j]
			checkText(o.Label, "checklist.toml", fmt.Sprintf("%s.options[%d].label", field, j), add)
			for _, w := range o.Words {
				o.wordTokens = append(o.wordTokens, Tokens(w))
			}
			for _, p := range o.Patterns {
				re, err := regexp.Compile(p)
				if err != nil {
					add("checklist.toml", fmt.Sprintf("%s.options[%d].patterns", field, j), "%v", err)
					continue
				}
				o.patterns = append(o.patterns, re)
			}
			for _, p := range o.Phrases {
				if t := Tokens(p); len(t) > 0 {
					o.phrases = append(o.phrases, t)
				} else {
					add("checklist.toml", fmt.Sprintf("%s.options[%d].phrases", field, j), "empty phrase %q", p)
				}
			}
			for _, p := range o.Platforms {
				if p != IOS && p != Windows {
					add("checklist.toml", fmt.Sprintf("%s.options[%d].platforms", field, j), "unknown platform %q", p)
				}
			}
		}
		for _, p := range q.Platforms {
			if p != IOS && p != Windows {
				add("checklist.toml", field+".platforms", "unknown platform %q", p)
			}
		}
	}

	c.Talk.prepare(add)
	topicIDs := map[string]bool{}
	for i, tp := range c.Topics {
		tp.prepare(i, add)
		if topicIDs[tp.ID] {
			add("scope.toml", fmt.Sprintf("topics[%d].id", i), "duplicate topic id %q", tp.ID)
		}
		topicIDs[tp.ID] = true
	}

	c.byID = map[string]*Entry{}
	for _, e := range c.Entries {
		f := e.file
		if !idPattern.MatchString(e.ID) {
			add(f, "id", "invalid or missing id %q", e.ID)
		}
		if want := strings.TrimSuffix(path.Base(f), ".toml"); e.ID != want {
			add(f, "id", "id %q does not match the file name", e.ID)
		}
		for _, id := range append([]string{e.ID}, e.Aliases...) {
			if prev, dup := c.byID[id]; dup {
				add(f, "id", "duplicate id or alias %q (also in %s)", id, prev.file)
				continue
			}
			c.byID[id] = e
		}
		if e.Platform != IOS && e.Platform != Windows {
			add(f, "platform", "unknown platform %q", e.Platform)
		}
		if e.Source.Article == "" || e.Source.URL == "" {
			add(f, "source", "article and url are required")
		}
		checkText(e.Title, f, "title", add)
		for lang := range e.Messages {
			if !lang.Valid() {
				add(f, "messages", "unknown language %q", lang)
			}
		}
		for lang := range e.Symptoms {
			if !lang.Valid() {
				add(f, "symptoms", "unknown language %q", lang)
			}
		}
		if len(e.Questions) == 0 {
			add(f, "questions", "no checklist questions")
		}
		for _, qid := range e.Questions {
			if _, ok := c.questionBy[qid]; !ok {
				add(f, "questions", "unknown question id %q", qid)
			}
		}
		for _, code := range e.Codes {
			if strings.HasPrefix(code, "0x") && !hexPattern.MatchString(code) {
				add(f, "codes", "code %q is not 0x followed by 8 lower-case hex digits", code)
			}
		}
		if len(e.Collect) > 0 {
			checkSteps(e.Collect, f, "collect", true, add)
		}
		for i, sig := range e.Signals {
			field := fmt.Sprintf("signals[%d]", i)
			switch {
			case (sig.Token == "") == (sig.Event == 0):
				add(f, field, "a signal has a token or an event, not both or neither")
			case sig.Token != "" && (len(symbolWords(sig.Token)) != 1 || symbolWords(sig.Token)[0] != sig.Token || len(sig.Token) < 6):
				add(f, field+".token", "token %q is not one word of at least 6 letters, digits or underscores", sig.Token)
			case sig.Event != 0 && (sig.Event < 10 || sig.Event > 99999 || sig.Log == ""):
				add(f, field, "event %d needs an id of 2 to 5 digits and its log", sig.Event)
			}
			if sig.Cause != "" && !slices.ContainsFunc(e.Causes, func(c Cause) bool { return c.ID == sig.Cause }) {
				add(f, field+".cause", "unknown cause %q", sig.Cause)
			}
		}
		if len(e.Causes) == 0 {
			add(f, "causes", "no causes")
		}
		seen := map[string]bool{}
		for i, cause := range e.Causes {
			field := fmt.Sprintf("causes[%d]", i)
			if cause.ID == "" || seen[cause.ID] {
				add(f, field+".id", "missing or duplicate cause id %q", cause.ID)
			}
			seen[cause.ID] = true
			checkText(cause.Summary, f, field+".summary", add)
			checkSteps(cause.Steps, f, field+".steps", true, add)
			checkSteps(cause.Notes, f, field+".notes", false, add)
			for name, cond := range map[string]Condition{"ruled_out_by": cause.RuledOutBy,
				"likely_when": cause.LikelyWhen, "unlikely_when": cause.UnlikelyWhen} {
				c.checkCondition(cond, f, field+"."+name, add)
			}
		}
	}

	for _, q := range c.Questions {
		if q.Listen && q.Key {
			add("checklist.toml", "questions."+q.ID, "a fact only listened for cannot be a key question")
		}
	}
	for _, e := range c.Entries {
		for _, qid := range e.Questions {
			if q, ok := c.questionBy[qid]; ok && q.Listen {
				add(e.file, "questions", "%q is only listened for, never asked", qid)
			}
		}
	}

	c.codeByHex = map[uint32]*Code{}
	c.codeBySym = map[string]*Code{}
	for i, code := range c.Codes {
		field := fmt.Sprintf("codes[%d]", i)
		if code.Hex == "" && code.Symbol == "" {
			add("codes.toml", field, "neither hex nor symbol")
		}
		if code.Hex != "" {
			v, ok := parseCanonicalHex(code.Hex)
			if !ok {
				add("codes.toml", field+".hex", "%q is not 0x followed by 8 lower-case hex digits", code.Hex)
			} else if prev, dup := c.codeByHex[v]; dup {
				add("codes.toml", field+".hex", "duplicate code %s (also %s)", code.Hex, prev.Symbol)
			} else {
				c.codeByHex[v] = code
			}
		}
		for _, sym := range append([]string{code.Symbol}, code.Aliases...) {
			if sym == "" {
				continue
			}
			key := symbolKey(sym)
			if prev, dup := c.codeBySym[key]; dup && prev != code {
				add("codes.toml", field+".symbol", "duplicate symbol %q", sym)
			}
			c.codeBySym[key] = code
		}
		checkText(code.Meaning, "codes.toml", field+".meaning", add)
		for _, id := range code.Entries {
			if _, ok := c.byID[id]; !ok {
				add("codes.toml", field+".entries", "unknown entry %q", id)
			}
		}
	}
	return probs
}

func checkText(t Text, file, field string, add func(file, field, format string, args ...any)) {
	for _, lang := range Langs {
		if strings.TrimSpace(t[lang]) == "" {
			add(file, field, "missing language %q", lang)
		}
	}
	for lang := range t {
		if !lang.Valid() {
			add(file, field, "unknown language %q", lang)
		}
	}
}

// checkSteps demands every language, each with the same number of items as
// English: a translation that drops a step is a silent wrong answer.
func checkSteps(l List, file, field string, required bool, add func(file, field, format string, args ...any)) {
	if !required && len(l) == 0 {
		return
	}
	n := len(l[English])
	if required && n == 0 {
		add(file, field, "empty step list")
	}
	for _, lang := range Langs {
		items, ok := l[lang]
		switch {
		case !ok || len(items) == 0:
			add(file, field, "missing language %q", lang)
		case len(items) != n:
			add(file, field, "%s has %d items, en has %d", lang, len(items), n)
		}
		for i, s := range items {
			if strings.TrimSpace(s) == "" {
				add(file, fmt.Sprintf("%s.%s[%d]", field, lang, i), "empty item")
			}
		}
	}
	for lang := range l {
		if !lang.Valid() {
			add(file, field, "unknown language %q", lang)
		}
	}
}

// checkCondition reports a rule that names an unknown question or option.
func (c *Catalog) checkCondition(cond Condition, file, field string, add func(file, field, format string, args ...any)) {
	for qid, opts := range cond {
		q, ok := c.questionBy[qid]
		if !ok {
			add(file, field, "unknown question or fact %q", qid)
			continue
		}
		if len(opts) == 0 {
			add(file, field+"."+qid, "no options")
		}
		for _, o := range opts {
			if !slices.ContainsFunc(q.Options, func(opt Option) bool { return opt.ID == o }) {
				add(file, field+"."+qid, "unknown option %q of %q", o, qid)
			}
		}
	}
}
