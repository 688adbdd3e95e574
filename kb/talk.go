package kb

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Intent is what a conversational turn asks of the bot when it is not an
// error paste: a greeting, thanks, "that didn't help", a request for a
// person.
type Intent string

// The intents conversation.toml defines words for.
const (
	IntentNotSolved   Intent = "not_solved"
	IntentSolved      Intent = "solved"
	IntentPerson      Intent = "person"
	IntentSummary     Intent = "summary"
	IntentOtherCauses Intent = "other_causes"
	IntentAllCauses   Intent = "all_causes"
	IntentHelp        Intent = "help"
	IntentGoodbye     Intent = "goodbye"
	IntentThanks      Intent = "thanks"
	IntentGreeting    Intent = "greeting"
	// IntentConfirm and IntentDecline answer a yes/no the bot asked (send
	// this to IT?); elsewhere the turn is read as a message.
	IntentConfirm Intent = "confirm"
	IntentDecline Intent = "decline"
)

// knownIntents are the intents the bot acts on; lint rejects others.
var knownIntents = []Intent{IntentNotSolved, IntentSolved, IntentPerson, IntentSummary,
	IntentOtherCauses, IntentAllCauses, IntentHelp, IntentGoodbye, IntentThanks, IntentGreeting,
	IntentConfirm, IntentDecline}

// Talk is the conversation vocabulary (conversation.toml): what words mean
// when a turn is not an error paste.
type Talk struct {
	Intents      []*IntentWords `toml:"intents"`
	Fillers      List           `toml:"fillers"`
	Negations    List           `toml:"negations"`
	Ordinals     []OrdinalWords `toml:"ordinals"`
	Languages    []LangNames    `toml:"languages"`
	LanguageCues List           `toml:"language_cues"`
	// CodeCues mark a short code next to them ("the 8002b error").
	CodeCues []string `toml:"code_cues"`
	// CodeContext words make the code family clear anywhere in a turn:
	// see conversation.toml.
	CodeContext []string `toml:"code_context"`
	// PickWords may stand around an ordinal in a pick ("the second
	// option"); a turn with other words is not a pick ("last week").
	PickWords []string `toml:"pick_words"`

	fillers   map[string]bool
	negations map[string]bool
	ordinals  map[string]int
	langNames map[string]Lang
	langCues  map[string]bool
	pickWords map[string]bool
	codeCues  map[string]bool
	codeCtx   map[string]bool
	phrases   []intentPhrase
}

// IntentWords are the phrases that express one intent, per language.
type IntentWords struct {
	ID Intent `toml:"id"`
	// Social intents only stand on their own: a greeting inside a longer
	// message is not a greeting turn.
	Social bool `toml:"social"`
	// Exact intents need the whole turn to be the phrase ("all").
	Exact bool `toml:"exact"`
	// Loose intents stand out in a longer turn ("checked the suffix, that
	// didn't help"): any short turn without a code that says it counts.
	Loose   bool `toml:"loose"`
	Phrases List `toml:"phrases"`
}

// OrdinalWords are the words for the n-th choice.
type OrdinalWords struct {
	N     int      `toml:"n"`
	Words []string `toml:"words"`
}

// LangNames are the names of one language, in every language.
type LangNames struct {
	Lang  Lang     `toml:"lang"`
	Names []string `toml:"names"`
}

type intentPhrase struct {
	intent *IntentWords
	lang   Lang
	tokens []string
}

// Topic is something the catalog does not cover (scope.toml), with the
// Learn page to read instead.
type Topic struct {
	ID string `toml:"id"`
	// Kind is platform, topic or howto; see scope.toml.
	Kind       string   `toml:"kind"`
	URL        string   `toml:"url"`
	Name       Text     `toml:"name"`
	Words      []string `toml:"words"`
	Cues       []string `toml:"cues"`
	ErrorWords []string `toml:"error_words"`
	// Problems (subjects only) are phrases that state the subject's own
	// failure ("apps not installing"): a turn that says one is about the
	// subject unless a message or symptom of an entry matched, while a
	// turn that merely names the subject (an ESP that tracks apps) is
	// about the entry it matches.
	Problems []string `toml:"problems"`

	words, cues, errorWords, problems [][]string
}

// The kinds of Topic.
const (
	TopicPlatform = "platform"
	TopicSubject  = "topic"
	TopicHowTo    = "howto"
)

// Tokens splits text the way conversation phrases are matched: lower-case
// words, diacritics folded, apostrophes dropped ("Didn't" → "didnt").
func Tokens(text string) []string {
	ws := words(text)
	out := ws[:0]
	for _, w := range ws {
		if strings.ContainsAny(w, "'’") {
			w = apostrophes.Replace(w)
		}
		if w != "" {
			out = append(out, fold(w))
		}
	}
	return out
}

var apostrophes = strings.NewReplacer("'", "", "’", "")

// ContentTokens are the tokens of text that carry meaning: no function
// word of any catalog language, no filler.
func (t *Talk) ContentTokens(text string) []string {
	var out []string
	for _, w := range Tokens(text) {
		if !t.fillers[w] && !stopSet[w] && len([]rune(w)) > 1 {
			out = append(out, w)
		}
	}
	return out
}

// stopSet holds the function words of every catalog language, folded.
var stopSet = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range Langs {
		for _, w := range strings.Fields(stopwords[l]) {
			m[fold(w)] = true
		}
	}
	return m
}()

// find returns the index where phrase occurs in tokens as a run, or -1.
func find(tokens, phrase []string) int {
	if len(phrase) == 0 || len(phrase) > len(tokens) {
		return -1
	}
	for i := 0; i+len(phrase) <= len(tokens); i++ {
		if slices.Equal(tokens[i:i+len(phrase)], phrase) {
			return i
		}
	}
	return -1
}

// prepare checks the vocabulary and builds its lookups.
func (t *Talk) prepare(add func(file, field, format string, args ...any)) {
	const file = "conversation.toml"
	t.fillers = map[string]bool{}
	t.negations = map[string]bool{}
	for _, l := range Langs {
		for _, w := range t.Fillers[l] {
			t.fillers[fold(strings.ToLower(w))] = true
		}
		for _, w := range Tokens(strings.Join(t.Negations[l], " ")) {
			t.negations[w] = true
		}
	}
	claimed := map[string]Intent{}
	seen := map[Intent]bool{}
	for i, in := range t.Intents {
		field := fmt.Sprintf("intents[%d]", i)
		if !slices.Contains(knownIntents, in.ID) {
			add(file, field+".id", "unknown intent %q", in.ID)
		}
		if seen[in.ID] {
			add(file, field+".id", "duplicate intent %q", in.ID)
		}
		seen[in.ID] = true
		for _, l := range Langs {
			if len(in.Phrases[l]) == 0 {
				add(file, field+".phrases."+string(l), "no phrases")
			}
			for _, p := range in.Phrases[l] {
				toks := Tokens(p)
				key := strings.Join(toks, " ")
				if len(toks) == 0 {
					add(file, field+".phrases."+string(l), "empty phrase %q", p)
					continue
				}
				if prev, ok := claimed[key]; ok && prev != in.ID {
					add(file, field+".phrases."+string(l), "phrase %q also means %s", p, prev)
				}
				claimed[key] = in.ID
				t.phrases = append(t.phrases, intentPhrase{intent: in, lang: l, tokens: toks})
			}
		}
	}
	for _, id := range knownIntents {
		if !seen[id] {
			add(file, "intents", "no words for intent %q", id)
		}
	}
	t.ordinals = map[string]int{}
	for i, o := range t.Ordinals {
		if o.N < 1 || len(o.Words) == 0 {
			add(file, fmt.Sprintf("ordinals[%d]", i), "want n ≥ 1 and words")
		}
		for _, w := range o.Words {
			t.ordinals[fold(strings.ToLower(w))] = o.N
		}
	}
	t.langNames = map[string]Lang{}
	for i, ln := range t.Languages {
		if !ln.Lang.Valid() {
			add(file, fmt.Sprintf("languages[%d].lang", i), "unknown language %q", ln.Lang)
		}
		for _, n := range ln.Names {
			k := fold(strings.ToLower(n))
			if prev, ok := t.langNames[k]; ok && prev != ln.Lang {
				add(file, fmt.Sprintf("languages[%d].names", i), "name %q also names %s", n, prev)
			}
			t.langNames[k] = ln.Lang
		}
	}
	for _, l := range Langs {
		if !slices.ContainsFunc(t.Languages, func(ln LangNames) bool { return ln.Lang == l }) {
			add(file, "languages", "no names for %s", l)
		}
	}
	t.codeCues = map[string]bool{}
	for _, w := range Tokens(strings.Join(t.CodeCues, " ")) {
		t.codeCues[w] = true
	}
	t.codeCtx = map[string]bool{}
	for _, w := range Tokens(strings.Join(t.CodeContext, " ")) {
		t.codeCtx[w] = true
	}
	t.pickWords = map[string]bool{}
	for _, w := range Tokens(strings.Join(t.PickWords, " ")) {
		t.pickWords[w] = true
	}
	t.langCues = map[string]bool{}
	for _, l := range Langs {
		for _, w := range Tokens(strings.Join(t.LanguageCues[l], " ")) {
			t.langCues[w] = true
		}
	}
}

// IntentMatch is what ReadIntent found.
type IntentMatch struct {
	Intent Intent
	// Langs are the languages whose phrase matched ("hallo" is Dutch and
	// German).
	Langs []Lang
}

// politeness may stand beside an exact intent ("all please").
var politeness = map[string]bool{"please": true, "pls": true, "bitte": true, "graag": true, "tack": true,
	"alsjeblieft": true, "alstublieft": true, "snalla": true}

// maxIntentTokens bounds a turn read as an intent: a longer one is a
// description or a paste, whatever phrases it contains.
const maxIntentTokens = 12

// ReadIntent reads a short turn as one of the conversation intents. ok is
// false for anything else: a paste, a description, a turn with more words
// of its own than an intent leaves room for.
func (t *Talk) ReadIntent(text string) (IntentMatch, bool) {
	toks := Tokens(text)
	if len(toks) == 0 || len(toks) > maxIntentTokens {
		return IntentMatch{}, false
	}
	for _, in := range t.Intents {
		m, ok := t.readOne(toks, in)
		if ok {
			return m, true
		}
	}
	return IntentMatch{}, false
}

// readOne reads toks as intent in: one of its phrases occurs, and the words
// left over are few enough for the intent's kind.
func (t *Talk) readOne(toks []string, in *IntentWords) (IntentMatch, bool) {
	var m IntentMatch
	covered := make([]bool, len(toks))
	for _, p := range t.phrases {
		if p.intent != in {
			continue
		}
		at := find(toks, p.tokens)
		if at < 0 {
			continue
		}
		if in.ID == IntentSolved && t.negated(toks, at) {
			// "het werkt niet": the opposite of solved.
			return IntentMatch{Intent: IntentNotSolved, Langs: []Lang{p.lang}}, true
		}
		m.Intent = in.ID
		if !slices.Contains(m.Langs, p.lang) {
			m.Langs = append(m.Langs, p.lang)
		}
		for i := at; i < at+len(p.tokens); i++ {
			covered[i] = true
		}
	}
	if m.Intent == "" {
		return IntentMatch{}, false
	}
	if in.Exact {
		// The whole turn is the phrase, give or take a "please": "all"
		// shows every cause, "all users" answers a question.
		for i, w := range toks {
			if !covered[i] && !politeness[w] {
				return IntentMatch{}, false
			}
		}
		return m, true
	}
	limit := 4
	switch {
	case in.Loose:
		limit = maxIntentTokens
	case in.Social:
		limit = 1
	}
	return m, len(t.withoutFillers(toks, covered)) <= limit
}

// negated reports a negation word among the two tokens around position at,
// or anywhere when the turn is short.
func (t *Talk) negated(toks []string, at int) bool {
	for i := max(0, at-2); i < min(len(toks), at+4); i++ {
		if t.negations[toks[i]] {
			return true
		}
	}
	return false
}

// withoutFillers returns the tokens that are neither covered nor fillers.
func (t *Talk) withoutFillers(toks []string, covered []bool) []string {
	var out []string
	for i, w := range toks {
		if (covered != nil && covered[i]) || t.fillers[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

// LanguageRequest reads "english please", "auf Deutsch bitte" or "kun je in
// het Nederlands antwoorden?" as a request to switch the reply language.
func (t *Talk) LanguageRequest(text string) (Lang, bool) {
	toks := Tokens(text)
	if len(toks) == 0 || len(toks) > 8 {
		return "", false
	}
	var lang Lang
	for _, w := range toks {
		if l, ok := t.langNames[w]; ok {
			if lang != "" && lang != l {
				return "", false
			}
			lang = l
			continue
		}
		if !t.langCues[w] && !t.fillers[w] {
			return "", false
		}
	}
	return lang, lang != ""
}

// Ordinal reads a pick among n choices: "2", "#2", "2)", "nr. 2", "the
// second one", "de tweede", "den andra", "die zweite", "the last one".
func (t *Talk) Ordinal(text string, n int) (int, bool) {
	s := strings.TrimSpace(text)
	s = strings.TrimRight(s, ".)!:")
	s = strings.TrimLeft(s, "#(")
	if k, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return k, k >= 1 && k <= n
	}
	toks := Tokens(text)
	if len(toks) == 0 || len(toks) > 5 {
		return 0, false
	}
	found := 0
	for _, w := range toks {
		k, ok := t.ordinals[w]
		if !ok {
			if d, err := strconv.Atoi(w); err == nil {
				k, ok = d, true
			}
		}
		if !ok {
			if !t.pickWords[w] && !t.fillers[w] && !isLast(w) {
				return 0, false
			}
			continue
		}
		if found != 0 && found != k {
			return 0, false
		}
		found = k
	}
	if found == 0 {
		if !slices.ContainsFunc(toks, isLast) {
			return 0, false
		}
		found = n
	}
	return found, found >= 1 && found <= n
}

func isLast(w string) bool {
	return w == "last" || w == "laatste" || w == "sista" || w == "letzte" || w == "letzten" || w == "letztes"
}

// prepare checks a topic and tokenizes its words.
func (tp *Topic) prepare(i int, add func(file, field, format string, args ...any)) {
	const file = "scope.toml"
	field := fmt.Sprintf("topics[%d]", i)
	if !idPattern.MatchString(tp.ID) {
		add(file, field+".id", "invalid id %q", tp.ID)
	}
	switch tp.Kind {
	case TopicPlatform, TopicSubject:
		if len(tp.Words) == 0 {
			add(file, field+".words", "no words")
		}
		if tp.Kind == TopicPlatform && len(tp.Problems) > 0 {
			add(file, field+".problems", "only a topic of kind topic has problems")
		}
	case TopicHowTo:
		if len(tp.Cues) == 0 || len(tp.ErrorWords) == 0 {
			add(file, field, "a howto topic needs cues and error_words")
		}
	default:
		add(file, field+".kind", "unknown kind %q (platform, topic or howto)", tp.Kind)
	}
	if !strings.HasPrefix(tp.URL, "https://learn.microsoft.com/") {
		add(file, field+".url", "want a Microsoft Learn page, got %q", tp.URL)
	}
	checkText(tp.Name, file, field+".name", add)
	tok := func(ws []string) [][]string {
		var out [][]string
		for _, w := range ws {
			if t := Tokens(w); len(t) > 0 {
				out = append(out, t)
			}
		}
		return out
	}
	tp.words, tp.cues, tp.errorWords, tp.problems = tok(tp.Words), tok(tp.Cues), tok(tp.ErrorWords), tok(tp.Problems)
}

func anyPhrase(toks []string, phrases [][]string) bool {
	for _, p := range phrases {
		if find(toks, p) >= 0 {
			return true
		}
	}
	return false
}

// Scope is what a turn says about what the catalog covers.
type Scope struct {
	// Platform is an uncovered platform the turn names, when it names no
	// covered one.
	Platform *Topic
	// Subject is a neighbouring subject the turn names (apps, compliance).
	Subject *Topic
	// SubjectProblem reports that the turn states the subject's own
	// failure (one of its problems), not merely names it.
	SubjectProblem bool
	// HowTo is set when the turn asks how to set something up and names no
	// error.
	HowTo *Topic
}

// ScopeOf reads what text says about scope. The caller decides with the
// match in hand: a subject is out of scope only when no entry matched.
func (c *Catalog) ScopeOf(text string) Scope {
	toks := Tokens(text)
	var s Scope
	covered := c.coveredPlatformNamed(toks)
	for _, tp := range c.Topics {
		switch tp.Kind {
		case TopicPlatform:
			if s.Platform == nil && !covered && anyPhrase(toks, tp.words) {
				s.Platform = tp
			}
		case TopicSubject:
			if s.Subject == nil && anyPhrase(toks, tp.words) {
				s.Subject = tp
				s.SubjectProblem = anyPhrase(toks, tp.problems)
			}
		case TopicHowTo:
			if s.HowTo == nil && anyPhrase(toks, tp.cues) && !anyPhrase(toks, tp.errorWords) {
				s.HowTo = tp
			}
		}
	}
	return s
}

// Topic returns the scope topic with the given id.
func (c *Catalog) Topic(id string) (*Topic, bool) {
	for _, t := range c.Topics {
		if t.ID == id {
			return t, true
		}
	}
	return nil, false
}

func (c *Catalog) coveredPlatformNamed(toks []string) bool {
	q, ok := c.Question("platform")
	if !ok {
		return false
	}
	for _, o := range q.Options {
		for _, w := range o.Words {
			if find(toks, Tokens(w)) >= 0 {
				return true
			}
		}
	}
	return false
}
