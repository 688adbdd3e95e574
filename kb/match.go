package kb

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sahilm/fuzzy"
)

// Outcome is what the matcher concluded about a query.
type Outcome string

// The four outcomes of a match.
const (
	// Answer: one entry, confidently.
	Answer Outcome = "answer"
	// Choices: two to four close candidates; the user should pick.
	Choices Outcome = "choices"
	// CodeOnly: a recognized error code with no troubleshooting entry.
	CodeOnly Outcome = "code"
	// Clarify: nothing confident; ask the checklist's key questions.
	Clarify Outcome = "clarify"
)

// Thresholds of the decision. They were tuned on testdata/eval; change them
// only with `enrollbot eval` numbers in hand.
const (
	answerScore  = 0.45 // a lone candidate at least this good is an answer
	answerMargin = 0.14 // …when the runner-up trails by at least this much
	choiceScore  = 0.32 // candidates at least this good may be offered as choices
	choiceWindow = 0.22 // …when within this distance of the best
	maxChoices   = 4
	maxKept      = 8

	// Signals against codes and text (see Signal).
	//
	// tokenScore is what a token signal's entry scores at least: above an
	// entry a code alone identifies (1 + text).
	tokenScore = 1.2
	// eventScore is what an event signal's entry scores at least: an
	// answer, above a code several entries share (0.6 + text), below one
	// that names the entry.
	eventScore = 0.75
	// eventBoost is what an event adds to its entry's other evidence.
	eventBoost = 0.3
	// namedCause is what a signal naming a cause adds to its rank: more
	// than words can.
	namedCause = 1000
	// singleWordBag caps what the bag of an entry's text scores for a
	// query of one word: below answerScore, within reach of choices.
	singleWordBag = 0.4
)

// Candidate is one entry the query may be about.
type Candidate struct {
	Entry *Entry
	// Score is the confidence in [0, ~1.3]; comparable within one query.
	Score float64
	// ByCode reports that an error code or symbol in the query links to it.
	ByCode bool
}

// Result is everything the matcher found out about one query.
type Result struct {
	Query Query
	// Outcome is the decision; Candidates[0] is the answer when it is Answer,
	// Candidates[:n] the choices when it is Choices.
	Outcome    Outcome
	Candidates []Candidate
	// Choices is how many leading candidates are offered when Outcome is Choices.
	Choices int
	// Codes are the error codes and symbols found, in order of appearance.
	Codes []CodeMention
	// Lang is the evidence about the language the user writes in.
	Lang LangGuess
	// Platform is the platform the user named, if any.
	Platform Platform
	// Signals are the catalog's signals found: sub-codes, failure reasons,
	// event ids.
	Signals []SignalMention
}

// Top returns the best candidate, if any.
func (r *Result) Top() (Candidate, bool) {
	if len(r.Candidates) == 0 {
		return Candidate{}, false
	}
	return r.Candidates[0], true
}

// Matcher maps user text onto catalog entries. It is built once from a
// catalog and is safe for concurrent use.
type Matcher struct {
	cat *Catalog
	an  *analyzer
	// idx holds each language's index, built on its first use: a query
	// in one language, or a code alone, needs one index or none.
	idx map[Lang]*lazyIndex
	// codeLinks maps a code value to the entries it identifies.
	codeLinks map[uint32][]int
	// symbolLinks maps a folded symbol to the entries it identifies.
	symbolLinks map[string][]int
	// symbols are the symbol spellings fuzzy-matched against symbol-like
	// words; symbolMasks their characters (symbolMask), every bit set for
	// one with a character no bit stands for.
	symbols     []string
	symbolMasks []uint64
	// hasHexCode marks entries that list a numeric error code.
	hasHexCode map[int]bool
	// abbrevs maps an abbreviation to the words it stands for, per
	// language (the glossary's abbreviations).
	abbrevs map[string]map[Lang][]string
	// signalTokens and signalEvents link the entries' signals (indexSignals).
	signalTokens map[string][]signalTarget
	signalEvents map[int][]signalTarget
	// entryIndex maps an entry id to its position in the catalog.
	entryIndex map[string]int
	// headlines are the first sentences of device messages that several
	// entries share ("Profile installation failed."), as tokens, with the
	// entries that share them.
	headlines []headline
	// causes holds, per language and built on first use, each cause's
	// summary terms with their idf and each entry's own terms: ranking
	// causes is per turn.
	causes map[Lang]*lazyCauses
	// platformWords maps words like "ipad" or "autopilot" to a platform.
	platformWords map[string]Platform
	// lang guesses the user's language; built on first use, since a code
	// alone needs no guess.
	lang     *langDetector
	langOnce sync.Once
	// entryScratch pools the per-query entry score buffers.
	entryScratch sync.Pool
	// pre is the index built ahead of time for this catalog; nil: the
	// matcher builds its own (Catalog.prebuiltIndex).
	pre *prebuilt
}

// headline is a message's first sentence that several entries share.
type headline struct {
	tokens  []string
	entries []int
}

// indexHeadlines finds the first sentences that several entries' device
// messages share, in every language.
func (m *Matcher) indexHeadlines() {
	by := map[string][]int{}
	for i, e := range m.cat.Entries {
		for _, lang := range Langs {
			for _, msg := range e.Messages[lang] {
				first, _, _ := strings.Cut(msg, ".")
				toks := m.cat.Talk.ContentTokens(first)
				if len(toks) < 2 {
					continue
				}
				key := strings.Join(toks, " ")
				if !slices.Contains(by[key], i) {
					by[key] = append(by[key], i)
				}
			}
		}
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if len(by[k]) >= 2 {
			m.headlines = append(m.headlines, headline{tokens: strings.Fields(k), entries: by[k]})
		}
	}
}

// headlineOnly finds a shared headline in the query that nothing else in
// the query tells apart: "the iPad says Profile installation failed,
// nothing else". It returns the entries sharing it; nil when there is no
// such headline, or the rest of the query, read in lang (empty: in every
// language), points to one of them.
func (m *Matcher) headlineOnly(q Query, lang Lang) []int {
	if len(m.headlines) == 0 {
		return nil
	}
	toks := m.cat.Talk.ContentTokens(q.Text)
	for _, h := range m.headlines {
		at := find(toks, h.tokens)
		if at < 0 {
			continue
		}
		rest := strings.Join(append(slices.Clone(toks[:at]), toks[at+len(h.tokens):]...), " ")
		// The rest has lost its function words, which tell the language:
		// read it in the query's.
		r := m.matchIn(Prepare(rest), lang)
		var best, second float64
		for _, c := range r.Candidates {
			if !slices.Contains(h.entries, m.entryIndex[c.Entry.ID]) {
				continue
			}
			switch {
			case c.Score > best:
				second, best = best, c.Score
			case c.Score > second:
				second = c.Score
			}
		}
		if best >= headlineEvidence && best-second >= headlineLead {
			return nil
		}
		return h.entries
	}
	return nil
}

// lazyIndex is a language's index, built once on first use.
type lazyIndex struct {
	once sync.Once
	li   *langIndex
}

// index returns lang's index, building it on first use, or taking the
// one built ahead of time for the built-in catalog.
func (m *Matcher) index(lang Lang) *langIndex {
	l := m.idx[lang]
	l.once.Do(func() {
		if pre := m.pre; pre != nil {
			l.li = pre.index(lang)
		} else {
			l.li = m.buildIndex(lang)
		}
		n := len(l.li.phrases)
		l.li.scratch.New = func() any {
			return &phraseScratch{matched: make([]float64, n), credit: make([]float64, n)}
		}
	})
	return l.li
}

// detector returns the language detector, building it on first use, or
// taking the one built ahead of time for the built-in catalog.
func (m *Matcher) detector() *langDetector {
	m.langOnce.Do(func() {
		if pre := m.pre; pre != nil {
			m.lang = pre.detector()
			m.lang.an = m.an
		} else {
			m.lang = newLangDetector(m.cat, m.an)
		}
	})
	return m.lang
}

// Warm builds every language's index now: a server pays at start what a
// one-off command (ask) pays only for the languages it needs.
func (m *Matcher) Warm() {
	for _, lang := range Langs {
		m.causeTerms(lang)
		li := m.index(lang)
		li.typoOnce.Do(li.buildTypos)
	}
	m.detector()
}

// lazyCauses are a language's cause terms, built once on first use.
type lazyCauses struct {
	once sync.Once
	// terms are each cause's summary terms with their idf, per entry id.
	terms map[string][]map[string]float64
	// own are the terms of each entry's title and messages, which do not
	// rank its causes.
	own map[string]map[string]bool
}

// phrase is one matchable string of an entry in one language: its title, a
// device message, a symptom, or (as a bag) all of its text together.
type phrase struct {
	entry int
	terms []string // unique terms
	mass  float64  // sum of the terms' idf
	bag   bool
}

type langIndex struct {
	idf      map[string]float64
	postings map[string][]int32
	phrases  []phrase
	// deletes indexes typoTerms and their one-deletion variants: a
	// symmetric-delete index for edit distance one.
	deletes *deletionIndex
	// scratch pools phraseScratch buffers sized to phrases.
	scratch sync.Pool
	// rawDeletes is the same over the unstemmed words (typoWords): a
	// misspelling can stem differently from the word it means
	// (organisation → organis, organization → organ).
	rawDeletes *deletionIndex
	// The deletion indexes are built on the first word that needs them: a
	// query whose words the catalog knows never does.
	typoOnce  sync.Once
	typoTerms []string
	typoWords [][2]string // folded word, its term
	// stems holds the term of every word of the catalog's text in the
	// language (analyzer.term), so that a query's known words are not
	// stemmed again. Read-only once built.
	stems map[string]stemmed
}

// stemmed is a word's term, and whether it has one (analyzer.term).
type stemmed struct {
	term string
	ok   bool
}

// term returns w's term in the index's language: from the catalog's
// words when w is one, else from the analyzer.
func (li *langIndex) term(an *analyzer, w string, lang Lang) (string, bool) {
	if s, ok := li.stems[w]; ok {
		return s.term, s.ok
	}
	return an.term(strings.Trim(w, "'’"), lang)
}

// buildTypos builds the deletion indexes.
func (li *langIndex) buildTypos() {
	li.deletes, li.rawDeletes = newDeletionIndex(), newDeletionIndex()
	for i, t := range li.typoTerms {
		li.deletes.add(t, int32(i))
	}
	for i, wt := range li.typoWords {
		li.rawDeletes.add(wt[0], int32(i))
	}
}

// NewMatcher indexes the catalog for matching.
func NewMatcher(c *Catalog) *Matcher {
	m := &Matcher{
		cat:           c,
		pre:           c.prebuiltIndex(),
		an:            newAnalyzer(unstemmed(c)...),
		idx:           map[Lang]*lazyIndex{},
		causes:        map[Lang]*lazyCauses{},
		codeLinks:     map[uint32][]int{},
		symbolLinks:   map[string][]int{},
		platformWords: map[string]Platform{},
		hasHexCode:    map[int]bool{},
	}
	entryIndex := map[string]int{}
	for i, e := range c.Entries {
		entryIndex[e.ID] = i
	}
	m.entryIndex = entryIndex
	link := func(code string, i int) {
		if v, ok := parseCanonicalHex(code); ok {
			m.hasHexCode[i] = true
			if !slices.Contains(m.codeLinks[v], i) {
				m.codeLinks[v] = append(m.codeLinks[v], i)
			}
			return
		}
		key := symbolKey(code)
		if !slices.Contains(m.symbolLinks[key], i) {
			m.symbolLinks[key] = append(m.symbolLinks[key], i)
		}
		if !slices.Contains(m.symbols, code) {
			m.symbols = append(m.symbols, code)
		}
	}
	for i, e := range c.Entries {
		for _, code := range e.Codes {
			link(code, i)
		}
	}
	m.indexSignals()
	if c.Glossary != nil {
		m.abbrevs = map[string]map[Lang][]string{}
		for _, a := range c.Glossary.Abbreviations {
			means := map[Lang][]string{}
			for _, lang := range Langs {
				means[lang] = words(a.Means.In(lang))
			}
			for _, s := range a.Short {
				m.abbrevs[strings.ToLower(s)] = means
			}
		}
	}
	for _, code := range c.Codes {
		for _, id := range code.Entries {
			i, ok := entryIndex[id]
			if !ok {
				continue
			}
			if code.Hex != "" {
				link(code.Hex, i)
			}
			if code.Symbol != "" {
				link(code.Symbol, i)
			}
		}
		if code.Symbol != "" && !slices.Contains(m.symbols, code.Symbol) {
			m.symbols = append(m.symbols, code.Symbol)
		}
	}
	for _, lang := range Langs {
		m.idx[lang] = &lazyIndex{}
		m.causes[lang] = &lazyCauses{}
	}
	if q, ok := c.Question("platform"); ok {
		for _, o := range q.Options {
			for _, w := range o.Words {
				m.platformWords[w] = Platform(o.ID)
			}
		}
	}
	for _, s := range m.symbols {
		mask, known := symbolMask(s)
		if !known {
			mask = ^uint64(0)
		}
		m.symbolMasks = append(m.symbolMasks, mask)
	}
	m.indexHeadlines()
	n := len(c.Entries)
	m.entryScratch.New = func() any { return &entryScores{score: make([]float64, n)} }
	return m
}

func (m *Matcher) buildIndex(lang Lang) *langIndex {
	li := &langIndex{idf: map[string]float64{}, postings: map[string][]int32{}}
	// Catalog text repeats its words a lot: stem each word once. The stems
	// of the phrases' words are kept for the queries, which mostly use
	// them (not the steps' words: they would cost memory for little).
	cache := map[string]stemmed{}
	li.stems = map[string]stemmed{}
	term := func(w string) (string, bool) {
		s, hit := cache[w]
		if !hit {
			s.term, s.ok = m.an.term(strings.Trim(w, "'’"), lang)
			cache[w] = s
		}
		return s.term, s.ok
	}

	df := map[string]int{}
	for _, e := range m.cat.Entries {
		// Document frequency counts every text of the entry, steps too:
		// more text gives steadier idf estimates for everyday words.
		seen := map[string]bool{}
		count := func(s string) {
			for _, w := range words(s) {
				if t, ok := term(w); ok && !seen[t] {
					seen[t] = true
					df[t]++
				}
			}
		}
		count(e.Title.In(lang))
		for _, msg := range e.Messages[lang] {
			count(msg)
		}
		for _, msg := range e.Messages[English] {
			count(msg)
		}
		for _, s := range e.Symptoms[lang] {
			count(s)
		}
		for _, c := range e.Causes {
			count(c.Summary.In(lang))
			for _, s := range c.Steps.In(lang) {
				count(s)
			}
			for _, s := range c.Notes.In(lang) {
				count(s)
			}
		}
	}
	n := float64(len(m.cat.Entries))
	for t, d := range df {
		// BM25's idf, floored so that a term every entry shares still counts
		// a little towards coverage.
		li.idf[t] = math.Max(0.1, math.Log(1+(n-float64(d)+0.5)/(float64(d)+0.5)))
		if m.an.generic[lang][t] {
			li.idf[t] = math.Min(li.idf[t], genericIDF)
		}
	}

	// The phrases: what a query is matched against. Typo correction only
	// needs to reach their words.
	typoSeen := map[string]bool{}
	addPhrase := func(entry int, bag bool, texts ...string) {
		p := phrase{entry: entry, bag: bag}
		seen := map[string]bool{}
		for _, text := range texts {
			for _, w := range words(text) {
				t, ok := term(w)
				li.stems[w] = stemmed{term: t, ok: ok}
				if !ok || seen[t] {
					continue
				}
				seen[t] = true
				p.terms = append(p.terms, t)
				p.mass += li.idf[t]
				if !typoSeen[t] {
					typoSeen[t] = true
					li.typoTerms = append(li.typoTerms, t)
				}
				if fw := fold(w); !typoSeen["\x00"+fw] && utf8.RuneCountInString(fw) >= minTypoRunes {
					typoSeen["\x00"+fw] = true
					li.typoWords = append(li.typoWords, [2]string{fw, t})
				}
			}
		}
		if len(p.terms) == 0 {
			return
		}
		id := int32(len(li.phrases))
		li.phrases = append(li.phrases, p)
		for _, t := range p.terms {
			li.postings[t] = append(li.postings[t], id)
		}
	}
	for i, e := range m.cat.Entries {
		all := []string{e.Title.In(lang)}
		addPhrase(i, false, e.Title.In(lang))
		// Devices often show English: every language also matches the
		// English device messages.
		msgs := e.Messages[lang]
		if lang != English {
			msgs = append(slices.Clone(msgs), e.Messages[English]...)
		}
		for _, s := range msgs {
			addPhrase(i, false, s)
		}
		all = append(all, msgs...)
		for _, s := range e.Symptoms[lang] {
			addPhrase(i, false, s)
		}
		all = append(all, e.Symptoms[lang]...)
		for _, c := range e.Causes {
			all = append(all, c.Summary.In(lang))
		}
		addPhrase(i, true, all...)
	}
	return li
}

// deletions returns t and every string one rune shorter than t; words of
// fewer than four runes get no variants (too many false friends).
func deletions(t string) []string {
	rs := []rune(t)
	out := []string{t}
	if len(rs) < 4 {
		return out
	}
	for i := range rs {
		out = append(out, string(rs[:i])+string(rs[i+1:]))
	}
	return out
}

// Match runs the whole pipeline on raw user text.
func (m *Matcher) Match(raw string) *Result { return m.MatchQuery(Prepare(raw)) }

// MatchQuery runs the pipeline on text already prepared, so that a turn
// prepares its text once.
func (m *Matcher) MatchQuery(q Query) *Result { return m.matchIn(q, "") }

// matchIn is MatchQuery reading the text in lang (and English), or in the
// language it guesses when lang is empty.
func (m *Matcher) matchIn(q Query, lang Lang) *Result {
	r := &Result{Query: q}
	if q.Text == "" {
		r.Outcome = Clarify
		return r
	}
	sw := symbolWords(q.Full)
	r.Codes = m.cat.findCodes(q.Full, sw)
	qws := words(q.Text)
	if len(qws) > len(r.Codes) {
		r.Lang = m.detector().guessUser(q.Text)
	}
	textLang := r.Lang.Lang
	if lang != "" {
		textLang = lang
	}
	r.Platform = m.platformOf(qws, r.Codes)
	// Code and symbol words are evidence of their own; as words they would
	// match text that merely shares a part (PASSWORD in
	// MENROLL_E_PASSWORD_NEEDED).
	text := q.Text
	for _, c := range r.Codes {
		text = strings.ReplaceAll(text, c.Raw, " ")
	}
	tws := qws
	if text != q.Text {
		tws = words(text)
	}
	abbr := m.abbreviationsIn(sw)

	scores := m.entryScratch.Get().(*entryScores)
	defer func() {
		scores.reset()
		m.entryScratch.Put(scores)
	}()
	byCode := map[int]bool{}
	contained := map[int]bool{}

	// Text evidence: the best language's score for each entry. When the
	// user's language is clear, only it and English (what devices show) are
	// read: other languages only add false friends.
	langs := Langs
	if textLang != "" {
		langs = []Lang{textLang}
		if textLang != English {
			langs = append(langs, English)
		}
	}
	for _, lang := range langs {
		var others []Lang
		for _, o := range langs {
			if o != lang {
				others = append(others, o)
			}
		}
		ts := m.scoreText(tws, abbr, lang, others, scores)
		if ts.terms <= maxAmbiguousTerms {
			for i := range ts.contained {
				contained[i] = true
			}
		}
	}
	// A headline several entries share, with nothing else that tells them
	// apart, is ambiguous: offer them all.
	if len(r.Codes) == 0 {
		if shared := m.headlineOnly(q, textLang); shared != nil {
			best := choiceScore + 0.1
			for _, i := range shared {
				best = math.Max(best, scores.score[i])
			}
			for _, i := range shared {
				contained[i] = true
				scores.set(i, best)
			}
		}
	}
	// A short query that several entries' messages all contain ("Profile
	// installation failed", "Something went wrong.") is ambiguous however
	// exactly one of them matches it: offer them all.
	if len(contained) >= 2 {
		best := 0.0
		for i := range contained {
			best = math.Max(best, scores.score[i])
		}
		if best >= choiceScore {
			for i := range contained {
				scores.set(i, best)
			}
		}
	}

	// Code evidence dominates text: a code identifies its entries; text only
	// breaks the tie between entries that share a code.
	linked := m.linkedEntries(text, r.Codes)
	for i, share := range linked {
		if share > 1 {
			// Shared by several entries: the text decides between them.
			scores.set(i, 0.6+scores.score[i])
		} else {
			scores.set(i, 1+0.5*scores.score[i])
		}
		byCode[i] = true
	}
	// Signals: a sub-code or failure reason names the failure, above any
	// code; an event id says which log spoke, above a shared code but never
	// against a code of the query that points elsewhere.
	// An event id needs its word: the pattern runs only when one is there.
	events := slices.ContainsFunc(sw, func(w string) bool {
		return len(w) >= 5 && len(w) <= 12 && eventWords[strings.ToLower(w)]
	})
	r.Signals = m.signalsIn(q.Full, sw, events)
	for _, s := range r.Signals {
		i := m.entryIndex[s.Entry.ID]
		if !s.Event {
			scores.set(i, math.Max(scores.score[i], tokenScore)+0.1*math.Min(1, scores.score[i]))
			byCode[i] = true
			continue
		}
		if m.codeElsewhere(r.Codes, i) {
			continue
		}
		scores.set(i, math.Max(scores.score[i]+eventBoost, eventScore))
		byCode[i] = true
	}

	// A code the user gave that leads to no entry speaks against every
	// entry, most against those with codes of their own: they would have
	// shown theirs.
	unlinkedCode := false
	for _, c := range r.Codes {
		if c.Value != 0 && c.Code != nil && len(m.codeLinks[c.Value]) == 0 {
			unlinkedCode = true
		}
	}
	for _, i := range scores.touched {
		s := scores.score[i]
		if byCode[i] {
			continue
		}
		if r.Platform != "" && m.cat.Entries[i].Platform != r.Platform {
			s *= 0.6
		}
		switch {
		case unlinkedCode && m.hasHexCode[i]:
			s *= 0.5
		case unlinkedCode:
			s *= 0.7
		}
		scores.score[i] = s
	}

	// Keep the best few: a bounded insertion, not a sort of every touched
	// entry.
	for _, i := range scores.touched {
		s := scores.score[i]
		if s <= 0.05 {
			continue
		}
		c := Candidate{Entry: m.cat.Entries[i], Score: s, ByCode: byCode[i]}
		if len(r.Candidates) == maxKept && !better(c, r.Candidates[maxKept-1]) {
			continue
		}
		pos := sort.Search(len(r.Candidates), func(k int) bool { return better(c, r.Candidates[k]) })
		if len(r.Candidates) < maxKept {
			r.Candidates = append(r.Candidates, Candidate{})
		}
		copy(r.Candidates[pos+1:], r.Candidates[pos:])
		r.Candidates[pos] = c
	}
	m.decide(r)
	return r
}

// codeElsewhere reports whether the query has a numeric code that does not
// lead to entry i: then the code, not an event id, says what failed.
func (m *Matcher) codeElsewhere(codes []CodeMention, i int) bool {
	for _, c := range codes {
		if c.Value != 0 && !slices.Contains(m.codeLinks[c.Value], i) {
			return true
		}
	}
	return false
}

// better orders candidates: higher score first, then by id so that equal
// scores list in a stable order.
func better(a, b Candidate) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Entry.ID < b.Entry.ID
}

// linkedEntries returns the entries that codes and symbols in the query
// identify, each with how many entries its code is shared among.
func (m *Matcher) linkedEntries(text string, codes []CodeMention) map[int]int {
	out := map[int]int{}
	add := func(entries []int) {
		for _, i := range entries {
			if n, ok := out[i]; !ok || len(entries) < n {
				out[i] = len(entries)
			}
		}
	}
	for _, c := range codes {
		if c.Value != 0 {
			add(m.codeLinks[c.Value])
		}
		if c.Code != nil && c.Code.Symbol != "" {
			add(m.symbolLinks[symbolKey(c.Code.Symbol)])
		}
	}
	for _, w := range symbolWords(text) {
		key := symbolKey(w)
		if entries, ok := m.symbolLinks[key]; ok {
			add(entries)
			continue
		}
		if !symbolLike(w) {
			continue
		}
		// A misspelt symbol: sahilm/fuzzy finds symbols the word is a
		// subsequence of; only near-complete spellings count.
		if target, ok := m.fuzzySymbol(w); ok && float64(len(w)) >= 0.85*float64(len(target)) {
			add(m.symbolLinks[symbolKey(target)])
		}
	}
	return out
}

// fuzzySymbol returns sahilm/fuzzy's best match for w among the symbols.
// It hands fuzzy only the symbols that have every letter, digit and
// underscore of w (symbolMask): the others cannot match, and skipping them
// keeps the ranking of the rest (fuzzy sorts stably, in their order).
func (m *Matcher) fuzzySymbol(w string) (string, bool) {
	wm, known := symbolMask(w)
	subset := symbolSubset{all: m.symbols}
	for i, sm := range m.symbolMasks {
		if !known || wm&^sm == 0 {
			subset.idx = append(subset.idx, i)
		}
	}
	if len(subset.idx) == 0 {
		return "", false
	}
	matches := fuzzy.FindFrom(w, subset)
	if len(matches) == 0 {
		return "", false
	}
	return m.symbols[subset.idx[matches[0].Index]], true
}

// symbolSubset is a fuzzy.Source over some of the symbols.
type symbolSubset struct {
	all []string
	idx []int
}

func (s symbolSubset) String(i int) string { return s.all[s.idx[i]] }
func (s symbolSubset) Len() int            { return len(s.idx) }

// symbolMask returns the set of ASCII letters (either case), digits and
// underscores in s, one bit each; known is false when s has any other
// character, for which no bit stands.
func symbolMask(s string) (mask uint64, known bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			mask |= 1 << (c - 'a')
		case c >= 'A' && c <= 'Z':
			mask |= 1 << (c - 'A')
		case c >= '0' && c <= '9':
			mask |= 1 << (26 + c - '0')
		case c == '_':
			mask |= 1 << 36
		default:
			return 0, false
		}
	}
	return mask, true
}

// symbolLike reports words written like symbols: CamelCase, SNAKE_CASE or
// long all-capitals words.
func symbolLike(w string) bool {
	if len(w) < 6 {
		return false
	}
	if strings.Contains(w, "_") {
		return true
	}
	upper, lowerAfterUpper := 0, 0
	rs := []rune(w)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			upper++
			if i > 0 && unicode.IsLower(rs[i-1]) {
				lowerAfterUpper++
			}
		}
	}
	return lowerAfterUpper >= 1 && unicode.IsUpper(rs[0]) || upper == len(rs)
}

// scoreText scores every entry against the query's words in one language.
// A phrase scores by how much of it the query covers (idf-weighted), damped
// when the query is mostly other words and when too little matched to be
// distinctive; the bag of all an entry's text scores by how much of the
// query it covers, for descriptions that quote no single phrase.
func (m *Matcher) scoreText(ws []string, abbr map[string]bool, lang Lang, others []Lang, into *entryScores) textScores {
	if len(ws) == 0 {
		// Nothing but codes: no index needed.
		return textScores{}
	}
	ws = m.expand(ws, abbr, lang)
	li := m.index(lang)
	type qterm struct {
		alts   []string
		exact  bool
		weight float64
	}
	var qs []qterm
	seen := map[string]bool{}
	var qmass float64
	skipped := 0
	for _, w := range ws {
		t, ok := li.term(m.an, w, lang)
		if !ok || seen[t] {
			continue
		}
		seen[t] = true
		if idf, ok := li.idf[t]; ok {
			qs = append(qs, qterm{alts: []string{t}, exact: true, weight: idf})
			qmass += idf
			continue
		}
		if m.knownElsewhere(w, others) {
			// The user's own language explains this word: in a mixed
			// paste it neither matches nor dilutes this language.
			skipped++
			continue
		}
		alts := li.typoAlternatives(t, fold(strings.Trim(w, "'’")))
		weight := oovWeight
		if len(alts) > 0 {
			weight = 0
			for _, a := range alts {
				weight = math.Max(weight, li.idf[a]*typoCredit)
			}
		}
		qs = append(qs, qterm{alts: alts, weight: weight})
		qmass += weight
	}
	if qmass == 0 {
		return textScores{}
	}

	buf := li.scratch.Get().(*phraseScratch)
	defer li.scratch.Put(buf)
	// Rare words first. In a large catalog a common word's postings run to
	// tens of thousands of phrases; past the first word, such a word only
	// adds to phrases a rarer word already reached (a phrase that shares
	// nothing but common words with the query cannot score). Catalogs the
	// size of the built-in one never reach the bound, so there it is exact.
	postingsOf := func(q qterm) int {
		n := 0
		for _, alt := range q.alts {
			n += len(li.postings[alt])
		}
		return n
	}
	sort.SliceStable(qs, func(a, b int) bool { return postingsOf(qs[a]) < postingsOf(qs[b]) })
	for qi, q := range qs {
		onlyTouched := qi > 0 && postingsOf(q) > maxFullPostings
		for _, alt := range q.alts {
			credit := li.idf[alt]
			if !q.exact {
				credit *= typoCredit
			}
			// A query word counts once per phrase, however many of its typo
			// alternatives the phrase contains.
			for _, p := range li.postings[alt] {
				if onlyTouched && buf.matched[p] == 0 {
					continue
				}
				if buf.credit[p] == 0 {
					buf.credited = append(buf.credited, p)
				}
				buf.credit[p] = math.Max(buf.credit[p], credit)
			}
		}
		for _, p := range buf.credited {
			if buf.matched[p] == 0 {
				buf.touched = append(buf.touched, p)
			}
			buf.matched[p] += buf.credit[p]
			buf.credit[p] = 0
		}
		buf.credited = buf.credited[:0]
	}

	out := textScores{contained: map[int]bool{}, terms: len(qs) + skipped}
	for _, pid := range buf.touched {
		got := buf.matched[pid]
		buf.matched[pid] = 0
		p := &li.phrases[pid]
		var s float64
		queryCov := math.Min(1, got/qmass)
		distinct := math.Min(1, got/distinctMass)
		if p.bag {
			s = bagWeight * queryCov * math.Min(1, got/bagDistinctMass)
			if len(qs) == 1 {
				// One word found somewhere in an entry's text ("call",
				// "license") is a topic, not a diagnosis: ask.
				s = math.Min(s, singleWordBag)
			}
		} else {
			phraseCov := math.Min(1, got/p.mass)
			s = phraseCov * (0.45 + 0.55*queryCov) * distinct
			if queryCov > 0.999 && skipped == 0 {
				out.contained[p.entry] = true
			}
		}
		into.raise(p.entry, s)
	}
	buf.touched = buf.touched[:0]
	return out
}

// phraseScratch holds per-query accumulators for one language index, sized
// to its phrases and reused through a pool: a query touches a few hundred
// phrases of possibly hundreds of thousands, and maps cost more than the
// scoring itself.
type phraseScratch struct {
	matched  []float64
	credit   []float64
	touched  []int32
	credited []int32
}

// entryScores accumulates the best score per entry for one query.
type entryScores struct {
	score   []float64
	touched []int
}

func (es *entryScores) raise(i int, s float64) {
	if s <= es.score[i] {
		return
	}
	if es.score[i] == 0 {
		es.touched = append(es.touched, i)
	}
	es.score[i] = s
}

func (es *entryScores) set(i int, s float64) {
	if es.score[i] == 0 && s != 0 {
		es.touched = append(es.touched, i)
	}
	es.score[i] = s
}

func (es *entryScores) reset() {
	for _, i := range es.touched {
		es.score[i] = 0
	}
	es.touched = es.touched[:0]
}

// textScores are what one language's pass learned beyond the scores.
type textScores struct {
	// contained marks entries with a phrase that holds every query word.
	contained map[int]bool
	// terms is how many distinct words of the query were weighed.
	terms int
}

const (
	// oovWeight is what a query word the catalog does not know weighs: off-
	// topic words must dilute a match, but log noise must not drown it.
	oovWeight = 1.2
	// typoCredit discounts a term matched only through a typo correction.
	typoCredit = 0.8
	// distinctMass is the idf mass below which a match is too thin to trust
	// (about two rare words).
	distinctMass = 4.0
	// bagDistinctMass is the same for an entry's text as a whole, which
	// needs more to go on than one phrase: about three rare words.
	bagDistinctMass = 6.0
	// genericIDF caps the weight of words every enrollment question uses
	// (enroll, device, error, works): rare in the catalog's text, they would
	// otherwise make "enrollment doesn't work" look specific.
	genericIDF = 0.3
	// maxFullPostings is the posting-list length past which a word is only
	// scored against phrases that rarer words of the query reached.
	maxFullPostings = 512
	// maxAmbiguousTerms is the longest query (in distinct words) that can be
	// ambiguous by being part of several entries' messages.
	maxAmbiguousTerms = 4
	// headlineEvidence is what the rest of a query must score for one of
	// the entries sharing its headline to tell them apart.
	headlineEvidence = 0.25
	// headlineLead is how far it must lead the others sharing the headline.
	headlineLead = 0.1
	// minTypoRunes is the shortest word corrected for typos: one edit away
	// from a short word is another word.
	minTypoRunes = 5
	// maxTypoRunes is the longest word corrected for typos.
	maxTypoRunes = 40
	// bagWeight caps what matching an entry's text as a whole can score.
	bagWeight = BagWeight
)

// knownElsewhere reports whether word is a term of another language's index.
func (m *Matcher) knownElsewhere(word string, langs []Lang) bool {
	for _, lang := range langs {
		if t, ok := m.an.term(word, lang); ok {
			if _, known := m.index(lang).idf[t]; known {
				return true
			}
		}
	}
	return false
}

// typoAlternatives returns the known terms within one edit of the term t
// or of the word it came from.
func (li *langIndex) typoAlternatives(t, word string) []string {
	li.typoOnce.Do(li.buildTypos)
	var out []string
	add := func(index *deletionIndex, s string, source, term func(int32) string) {
		// No word of the catalog is longer than maxTypoRunes: a longer one
		// is no typo of it, and its deletions would cost quadratic time.
		if n := utf8.RuneCountInString(s); n < minTypoRunes || n > maxTypoRunes {
			return
		}
		for _, del := range deletions(s) {
			index.lookup(del, source, func(p int32) {
				if cand := term(p); !slices.Contains(out, cand) {
					out = append(out, cand)
				}
			})
		}
	}
	typoTerm := func(p int32) string { return li.typoTerms[p] }
	add(li.deletes, t, typoTerm, typoTerm)
	add(li.rawDeletes, word, func(p int32) string { return li.typoWords[p][0] }, func(p int32) string { return li.typoWords[p][1] })
	return out
}

// abbreviationsIn returns the glossary's abbreviations that the symbol
// words sw write in capitals ("CP", "GCC-H"), lower-cased; nil when there
// are none.
func (m *Matcher) abbreviationsIn(sw []string) map[string]bool {
	var out map[string]bool
	for _, w := range sw {
		if len(w) < 2 || len(w) > 8 || strings.ToUpper(w) != w {
			continue
		}
		if key := strings.ToLower(w); m.abbrevs[key] != nil {
			if out == nil {
				out = map[string]bool{}
			}
			out[key] = true
		}
	}
	return out
}

// unstemmed returns the glossary's words matched whole.
func unstemmed(c *Catalog) []string {
	if c.Glossary == nil {
		return nil
	}
	return c.Glossary.Unstemmed
}

// expand adds to ws the words each abbreviation of abbr in it stands for
// in lang ("cp" → "company", "portal"), each after its abbreviation.
func (m *Matcher) expand(ws []string, abbr map[string]bool, lang Lang) []string {
	if len(abbr) == 0 {
		return ws
	}
	out := make([]string, 0, len(ws)+4)
	for _, w := range ws {
		out = append(out, w)
		if abbr[w] {
			out = append(out, m.abbrevs[w][lang]...)
		}
	}
	return out
}

// platformOf infers the platform from the query's words (iPad, Windows,
// Autopilot) and from Windows-only code families.
func (m *Matcher) platformOf(ws []string, codes []CodeMention) Platform {
	for _, c := range codes {
		if c.Value != 0 {
			return Windows
		}
	}
	found := Platform("")
	for _, w := range ws {
		if p, ok := m.platformWords[w]; ok {
			if found != "" && found != p {
				return "" // both named: no hint
			}
			found = p
		}
	}
	if found != IOS && found != Windows {
		return ""
	}
	return found
}

// BagWeight is the most that words found anywhere in an entry's text score,
// without a message or symptom phrase of it matched.
const BagWeight = 0.8

// decide turns scores into an outcome. It prefers asking to guessing: an
// answer needs a good score and a clear lead.
func (m *Matcher) decide(r *Result) {
	c := r.Candidates
	if len(c) == 0 || c[0].Score < choiceScore {
		r.Outcome = m.fallback(r)
		return
	}
	second := 0.0
	if len(c) > 1 {
		second = c[1].Score
	}
	if c[0].Score >= answerScore && c[0].Score-second >= answerMargin && !m.unknownCodeBeside(r, c[0]) {
		r.Outcome = Answer
		return
	}
	// A known code without an entry says more than lukewarm text matches.
	if !c[0].ByCode && m.recognizedCode(r) {
		r.Outcome = CodeOnly
		return
	}
	n := 0
	for _, cand := range c {
		if n == maxChoices || cand.Score < choiceScore || c[0].Score-cand.Score > choiceWindow {
			break
		}
		n++
	}
	if n >= 2 {
		r.Outcome = Choices
		r.Choices = n
		return
	}
	// One lukewarm candidate: not enough to answer, too little to choose
	// between. Ask.
	r.Outcome = m.fallback(r)
}

// unknownCodeBeside reports a code next to a text match whose entry has
// codes of its own, none of them this one: the device would have shown one
// of the entry's, so the text alone is not enough to answer ("Auto MDM
// Enroll: Failed" with 0x80180018 is not the 0x8018002b entry).
func (m *Matcher) unknownCodeBeside(r *Result, top Candidate) bool {
	if top.ByCode || !m.hasHexCode[m.entryIndex[top.Entry.ID]] {
		return false
	}
	for _, c := range r.Codes {
		if c.Value != 0 {
			return true
		}
	}
	return false
}

// UnknownCode returns the first code in the result that the table does not
// know, if any.
func (r *Result) UnknownCode() (CodeMention, bool) {
	for _, c := range r.Codes {
		if c.Code == nil && c.Value != 0 {
			return c, true
		}
	}
	return CodeMention{}, false
}

// Constrain drops the candidates of platforms other than p (the one the
// user named) and decides again: an entry of another platform is never the
// answer. An empty p changes nothing.
func (m *Matcher) Constrain(r *Result, p Platform) {
	if p == "" {
		return
	}
	kept := r.Candidates[:0]
	for _, c := range r.Candidates {
		if c.Entry.Platform == p {
			kept = append(kept, c)
		}
	}
	r.Candidates = kept
	r.Choices = 0
	m.decide(r)
}

// fallback is the outcome when no entry fits: the code's meaning if the
// table knows the code, else a question.
func (m *Matcher) fallback(r *Result) Outcome {
	if m.recognizedCode(r) {
		return CodeOnly
	}
	return Clarify
}

func (m *Matcher) recognizedCode(r *Result) bool {
	for _, c := range r.Codes {
		if c.Code != nil {
			return true
		}
	}
	return false
}

// Catalog returns the catalog the matcher was built from.
func (m *Matcher) Catalog() *Catalog { return m.cat }

// RankCauses orders an entry's causes by how much of text each one's
// summary shares, most first; ties keep the catalog's order, which lists
// the most common cause first. It reads text in langs (every catalog
// language when none is given): the user's and English are enough, and
// spare building the other languages' indexes.
func (m *Matcher) RankCauses(e *Entry, text string, langs ...Lang) []int {
	order := make([]int, len(e.Causes))
	for i := range order {
		order[i] = i
	}
	if len(e.Causes) < 2 || text == "" {
		return order
	}
	score := make([]float64, len(e.Causes))
	// A signal that names a cause (a sub-code, an event of its log) puts
	// it first, whatever the words say.
	for _, s := range m.findSignals(text) {
		if s.Entry == e && s.Cause != "" {
			if k := slices.IndexFunc(e.Causes, func(c Cause) bool { return c.ID == s.Cause }); k >= 0 {
				score[k] += namedCause
			}
		}
	}
	if len(langs) == 0 {
		langs = Langs
	}
	for _, lang := range langs {
		q := map[string]bool{}
		for _, t := range m.an.terms(text, lang) {
			q[t] = true
		}
		if len(q) == 0 {
			continue
		}
		ct := m.causeTerms(lang)
		own := ct.own[e.ID]
		for i, terms := range ct.terms[e.ID] {
			var s float64
			for t, idf := range terms {
				// The words of the error itself are in every paste of it:
				// they tell no cause apart.
				if q[t] && !own[t] {
					s += idf
				}
			}
			score[i] = math.Max(score[i], s)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return score[order[a]] > score[order[b]] })
	return order
}

// causeTerms returns lang's cause terms, computing them on first use.
func (m *Matcher) causeTerms(lang Lang) *lazyCauses {
	lc := m.causes[lang]
	lc.once.Do(func() {
		if pre := m.pre; pre != nil {
			built := pre.causes(lang)
			lc.terms, lc.own = built.terms, built.own
			return
		}
		lc.terms, lc.own = m.buildCauses(lang)
	})
	return lc
}

// buildCauses computes lang's cause terms and each entry's own terms.
func (m *Matcher) buildCauses(lang Lang) (terms map[string][]map[string]float64, own map[string]map[string]bool) {
	li := m.index(lang)
	terms = map[string][]map[string]float64{}
	own = map[string]map[string]bool{}
	for _, e := range m.cat.Entries {
		mine := map[string]bool{}
		for _, text := range append([]string{e.Title.In(lang)}, append(e.Messages[lang], e.Messages[English]...)...) {
			for _, t := range m.an.terms(text, lang) {
				mine[t] = true
			}
		}
		var per []map[string]float64
		for _, c := range e.Causes {
			ts := map[string]float64{}
			for _, t := range m.an.terms(c.Summary.In(lang), lang) {
				ts[t] = li.idf[t]
			}
			per = append(per, ts)
		}
		terms[e.ID] = per
		own[e.ID] = mine
	}
	return terms, own
}
