package kb

import (
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// LangGuess is the evidence about which language a user writes in.
type LangGuess struct {
	// Lang is the most likely language; empty when there is no evidence.
	Lang Lang
	// Score is the evidence for Lang (about one per telling word).
	Score float64
	// DeviceOnly reports that every English word was also a word of an
	// English device message: the user may have pasted what an English device
	// shows without writing a word of their own.
	DeviceOnly bool
}

// langDetector guesses the language from words only one language uses:
// each language's function words, and the words of the catalog's own text
// in that language. A statistical detector that knows Swedish well costs
// ~130 MB of models; the catalog already knows the domain's vocabulary.
type langDetector struct {
	an *analyzer
	// exclusive maps a folded word to the one language it belongs to.
	exclusive map[string]Lang
	// weight is how telling an exclusive word is: function words more than
	// catalog vocabulary, which shares more with neighbouring languages.
	weight map[string]float64
	// deviceWords are the words of English device messages.
	deviceWords map[string]bool
	// shared maps a function word of exactly two languages (Dutch and
	// Swedish "om", Dutch and German "was") to both: half a vote each.
	shared map[string][]Lang
	// messages are the sentences of English device messages, lower-case.
	messages []string
	// byFirst indexes messages by their first word: a text is searched
	// only for the messages whose first word it has.
	byFirst map[string][]int
}

func newLangDetector(c *Catalog, an *analyzer) *langDetector {
	d := &langDetector{an: an, exclusive: map[string]Lang{}, weight: map[string]float64{}, deviceWords: map[string]bool{},
		shared: map[string][]Lang{}}
	owners := map[string]map[Lang]bool{}
	own := func(w string, lang Lang) {
		w = fold(strings.Trim(w, "'’"))
		if len([]rune(w)) < 2 || isCodeWord(w) {
			return
		}
		if owners[w] == nil {
			owners[w] = map[Lang]bool{}
		}
		owners[w][lang] = true
	}
	for _, lang := range Langs {
		for _, w := range strings.Fields(stopwords[lang]) {
			own(w, lang)
		}
		for _, e := range c.Entries {
			texts := []string{e.Title.In(lang)}
			texts = append(texts, e.Messages[lang]...)
			texts = append(texts, e.Symptoms[lang]...)
			for _, cause := range e.Causes {
				texts = append(texts, cause.Summary.In(lang))
			}
			for _, t := range texts {
				for _, w := range words(t) {
					own(w, lang)
				}
			}
		}
		for _, q := range c.Questions {
			for _, w := range words(q.Text.In(lang)) {
				own(w, lang)
			}
		}
	}
	for w, langs := range owners {
		if len(langs) != 1 {
			continue
		}
		for lang := range langs {
			d.exclusive[w] = lang
			d.weight[w] = 0.6
		}
	}
	for _, lang := range Langs {
		for _, w := range strings.Fields(stopwords[lang]) {
			if d.exclusive[fold(w)] == lang {
				d.weight[fold(w)] = 1
			}
		}
	}
	stopOwners := map[string][]Lang{}
	for _, lang := range Langs {
		for _, w := range strings.Fields(stopwords[lang]) {
			if w = fold(w); !slices.Contains(stopOwners[w], lang) {
				stopOwners[w] = append(stopOwners[w], lang)
			}
		}
	}
	for w, langs := range stopOwners {
		if _, mine := d.exclusive[w]; len(langs) == 2 && !mine {
			d.shared[w] = langs
		}
	}
	for _, e := range c.Entries {
		for _, msg := range e.Messages[English] {
			for _, w := range words(msg) {
				d.deviceWords[fold(w)] = true
			}
			for _, sentence := range strings.SplitAfter(strings.ToLower(msg), ".") {
				if sentence = strings.TrimSpace(sentence); len(sentence) > 12 {
					d.messages = append(d.messages, sentence)
				}
			}
		}
	}
	// Longest first, so that a message is taken out whole before a part of it.
	slices.SortFunc(d.messages, func(a, b string) int { return len(b) - len(a) })
	d.messages = slices.Compact(d.messages)
	d.byFirst = map[string][]int{}
	for i, msg := range d.messages {
		if ws := words(msg); len(ws) > 0 {
			d.byFirst[ws[0]] = append(d.byFirst[ws[0]], i)
		}
	}
	return d
}

// logLine matches a line a log or event viewer printed, not the user: a
// time stamp, an English event-viewer field, a bracketed tag. It is tried
// on one line at a time (withoutLogLines): a pattern over the whole text
// would have to backtrack from every line's start.
var logLine = regexp.MustCompile(`(?i)\b\d{1,2}:\d{2}:\d{2}\b|^\s*(?:log name|source|date|event id|task category|level|keywords|user|computer|description|task|opcode|details|status|result)\s*:|^\s*\[`)

// withoutLogLines returns text with every line logLine matches replaced by
// a space.
func withoutLogLines(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		if logLine.MatchString(line) {
			b.WriteByte(' ')
		} else {
			b.WriteString(line)
		}
	}
	return b.String()
}

// guessUser guesses the language of what the user wrote around what they
// pasted: log lines and the catalog's English device messages are taken
// out first ("Beim Azure AD Join kommt: Something went wrong…" is German).
// When nothing of the user's own is left, the whole text decides.
func (d *langDetector) guessUser(text string) LangGuess {
	lowerText := strings.ToLower(text)
	lower := lowerText
	if strings.Contains(text, "\n") {
		lower = strings.ToLower(withoutLogLines(text))
	}
	var candidates []int
	for _, w := range words(lower) {
		candidates = append(candidates, d.byFirst[w]...)
	}
	// In message order: longest first.
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	for _, i := range candidates {
		msg := d.messages[i]
		for {
			i := strings.Index(lower, msg)
			if i < 0 {
				break
			}
			lower = lower[:i] + " " + lower[i+len(msg):]
		}
	}
	if lower == lowerText {
		// Nothing set aside: the whole text decides (words are lowered).
		return d.guess(lowerText)
	}
	if g := d.guess(lower); g.Lang != "" {
		return g
	}
	return d.guess(lowerText)
}

// guess weighs the words of text. The best language needs at least one
// telling word and a lead over the runner-up, or there is no guess.
func (d *langDetector) guess(text string) LangGuess {
	score := map[Lang]float64{}
	deviceEnglish := 0.0
	for _, w := range words(text) {
		w = fold(strings.Trim(w, "'’"))
		lang, ok := d.exclusive[w]
		if !ok {
			// A shared word quoted from an English device message votes
			// for nobody: it is neither language's evidence.
			if !d.deviceWords[w] {
				for _, l := range d.shared[w] {
					score[l] += 0.5
				}
			}
			continue
		}
		if lang == English && d.deviceWords[w] {
			// Quoted from an English device: weak evidence of the user's
			// own language.
			deviceEnglish += d.weight[w]
			continue
		}
		score[lang] += d.weight[w]
	}
	ownEnglish := score[English]
	score[English] += deviceDiscount * deviceEnglish
	var best, second Lang
	for _, lang := range Langs {
		switch {
		case best == "" || score[lang] > score[best]:
			second, best = best, lang
		case second == "" || score[lang] > score[second]:
			second = lang
		}
	}
	if score[best] < minLangScore || score[best] < 1.5*score[second] {
		return LangGuess{}
	}
	return LangGuess{Lang: best, Score: score[best], DeviceOnly: best == English && ownEnglish < minLangScore}
}

const (
	// deviceDiscount is what a word of an English device message counts
	// towards English, against a word the user wrote.
	deviceDiscount = 0.1
	// minLangScore is the evidence a guess needs: one function word, or one
	// word of the catalog's vocabulary in that language.
	minLangScore = 0.6
)

// LangFromLocale maps a client locale (nl-BE, de-AT, sv_FI, en-US) onto a
// catalog language; ok is false for anything else.
func LangFromLocale(locale string) (Lang, bool) {
	locale = strings.ReplaceAll(strings.TrimSpace(locale), "_", "-")
	if locale == "" {
		return "", false
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return "", false
	}
	base, _ := tag.Base()
	l := Lang(base.String())
	if !l.Valid() {
		return "", false
	}
	return l, true
}
