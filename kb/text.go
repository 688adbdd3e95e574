package kb

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQueryRunes bounds how much of a paste is matched as text. Error
// messages are short; anything longer is a log, and the bound keeps the run
// time of one query flat: a long paste is matched on its lines that carry
// evidence (codes, error words) and then its start.
const MaxQueryRunes = 4000

// MaxPasteRunes bounds how much of a paste is read at all: codes, event IDs
// and device messages are looked for in all of it, since a log puts the
// error anywhere.
const MaxPasteRunes = 64 * 1024

// Query is user text prepared for matching.
type Query struct {
	// Text is what is matched as text: the whole cleaned paste when it is
	// short, else its telling lines, at most MaxQueryRunes.
	Text string
	// Full is the whole cleaned paste, at most MaxPasteRunes: markup
	// stripped, control characters removed. Codes are looked for in it.
	Full string
	// Truncated reports that the input was longer than MaxPasteRunes.
	Truncated bool
	// InvalidUTF8 reports that the input had bytes that are not UTF-8.
	InvalidUTF8 bool
}

var (
	slackMention   = regexp.MustCompile(`<[@!][^<>]*>`)
	slackChannel   = regexp.MustCompile(`<#[A-Z0-9]+\|([^<>]*)>`)
	slackLink      = regexp.MustCompile(`<((?:https?|mailto):[^<>|]*)(?:\|([^<>]*))?>`)
	teamsMention   = regexp.MustCompile(`(?is)<at[^>]*>.*?</at>`)
	htmlTag        = regexp.MustCompile(`(?s)</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>`)
	codeFence      = regexp.MustCompile("```[a-zA-Z]*")
	emphasis       = regexp.MustCompile(`(^|[\s(])([*_~]+)([^\s*_~][^*_~\n]*?)([*_~]+)($|[\s.,:;!?)])`)
	quotePrefix    = regexp.MustCompile(`(?m)^\s*(?:>|&gt;)\s?`)
	spaceRun       = regexp.MustCompile(`[ \t]+`)
	blankLines     = regexp.MustCompile(`\n{3,}`)
	slackEmojiCode = regexp.MustCompile(`:[a-z0-9_+-]+:`)
)

// Prepare cleans raw user text for matching: it repairs invalid UTF-8,
// removes control characters, strips Slack and Teams markup and HTML, and
// bounds the length. It never fails; an empty result means nothing usable.
func Prepare(raw string) Query {
	var q Query
	if !utf8.ValidString(raw) {
		q.InvalidUTF8 = true
		raw = strings.ToValidUTF8(raw, " ")
	}
	// Bound the work before the regular expressions run: markup rarely
	// doubles a text, so four times the limit is plenty to strip from.
	if utf8.RuneCountInString(raw) > 4*MaxPasteRunes {
		raw = truncateRunes(raw, 4*MaxPasteRunes)
		q.Truncated = true
	}
	s := StripMarkup(raw)
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r), r == utf8.RuneError, unicode.Is(unicode.Cf, r):
			return ' '
		}
		return r
	}, s)
	s = spaceRun.ReplaceAllString(s, " ")
	s = blankLines.ReplaceAllString(s, "\n\n")
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxPasteRunes {
		s = truncateRunes(s, MaxPasteRunes)
		q.Truncated = true
	}
	q.Full = s
	q.Text = focus(s, MaxQueryRunes)
	return q
}

// tellingLines find the lines of a log worth matching first, strongest
// evidence first: error codes, then failure words in the catalog's
// languages and symbolic errors (NoEnrollmentPolicy).
var tellingLines = []*regexp.Regexp{
	regexp.MustCompile(`(?i)0x[0-9a-f]{4,8}|\b8[0-9a-f]{7}\b|-?\b[0-9]{10}\b`),
	regexp.MustCompile(`(?i)\b(?:error|fail\w*|fault|denied|invalid|expired|fout|mislukt|fel|misslyck\w*|fehler|fehlgeschlagen|ungültig)\b|\b[A-Z][a-z]+[A-Z][a-z]+[A-Z]\w*\b`),
}

// focus returns s when it fits in n runes; else its telling lines in their
// order, then the lines from the start, until n runes are used.
func focus(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	lines := strings.Split(s, "\n")
	keep := make([]bool, len(lines))
	budget := n
	take := func(i int) {
		if keep[i] || budget <= 0 {
			return
		}
		r := utf8.RuneCountInString(lines[i])
		if r > budget {
			lines[i] = truncateRunes(lines[i], budget)
			r = budget
		}
		keep[i] = true
		budget -= r + 1
	}
	for _, re := range tellingLines {
		for i, l := range lines {
			// A line of a log is short; the regexp only reads its head so
			// that one enormous line costs no more than a short one.
			if !keep[i] && re.MatchString(truncateRunes(l, 512)) {
				take(i)
			}
		}
	}
	for i := range lines {
		take(i)
	}
	var b strings.Builder
	for i, l := range lines {
		if keep[i] {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(l)
		}
	}
	return b.String()
}

// StripMarkup removes what chat clients add around pasted text: Slack
// mentions, channel and link syntax, emphasis, code fences and quotes, Teams
// <at> mentions, HTML tags and entities.
func StripMarkup(s string) string {
	// Each pattern runs only where its markup can be: on a long log with
	// none, the regular expressions cost more than everything else.
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	if has("<at", "<AT", "<At") {
		s = teamsMention.ReplaceAllString(s, " ")
	}
	if has("<@", "<!") {
		s = slackMention.ReplaceAllString(s, " ")
	}
	if has("<#") {
		s = slackChannel.ReplaceAllString(s, " #$1 ")
	}
	if has("<http", "<mailto") {
		s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
			sub := slackLink.FindStringSubmatch(m)
			if sub[2] != "" {
				return sub[2]
			}
			return sub[1]
		})
	}
	if has("<") {
		s = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n", "</div>", "\n").Replace(s)
		s = htmlTag.ReplaceAllString(s, " ")
	}
	if has(">", "&gt;") {
		s = quotePrefix.ReplaceAllString(s, "")
	}
	if has("&") {
		s = html.UnescapeString(s)
	}
	if has("```") {
		s = codeFence.ReplaceAllString(s, " ")
	}
	s = strings.ReplaceAll(s, "`", " ")
	if has(":") {
		s = slackEmojiCode.ReplaceAllString(s, " ")
	}
	// Emphasis markers wrap words; underscores inside a word (XPC_TYPE_ERROR)
	// are part of it and must survive, hence the boundary groups.
	if has("*", "_", "~") {
		for range 2 {
			s = emphasis.ReplaceAllString(s, "$1$3$5")
		}
	}
	return s
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
