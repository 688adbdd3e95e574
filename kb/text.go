package kb

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQueryRunes bounds how much of a paste is matched. Error messages are
// short; anything longer is a log dump whose first part carries the error,
// and the bound keeps the run time of one query flat.
const MaxQueryRunes = 4000

// Query is user text prepared for matching.
type Query struct {
	// Text is the cleaned text: markup stripped, control characters removed,
	// truncated to MaxQueryRunes.
	Text string
	// Truncated reports that the input was longer than MaxQueryRunes.
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
	if utf8.RuneCountInString(raw) > 4*MaxQueryRunes {
		raw = truncateRunes(raw, 4*MaxQueryRunes)
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
	if utf8.RuneCountInString(s) > MaxQueryRunes {
		s = truncateRunes(s, MaxQueryRunes)
		q.Truncated = true
	}
	q.Text = s
	return q
}

// StripMarkup removes what chat clients add around pasted text: Slack
// mentions, channel and link syntax, emphasis, code fences and quotes, Teams
// <at> mentions, HTML tags and entities.
func StripMarkup(s string) string {
	s = teamsMention.ReplaceAllString(s, " ")
	s = slackMention.ReplaceAllString(s, " ")
	s = slackChannel.ReplaceAllString(s, " #$1 ")
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		sub := slackLink.FindStringSubmatch(m)
		if sub[2] != "" {
			return sub[2]
		}
		return sub[1]
	})
	s = strings.NewReplacer("<br>", "\n", "<br/>", "\n", "<br />", "\n", "</p>", "\n", "</div>", "\n").Replace(s)
	s = htmlTag.ReplaceAllString(s, " ")
	s = quotePrefix.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = codeFence.ReplaceAllString(s, " ")
	s = strings.ReplaceAll(s, "`", " ")
	s = slackEmojiCode.ReplaceAllString(s, " ")
	// Emphasis markers wrap words; underscores inside a word (XPC_TYPE_ERROR)
	// are part of it and must survive, hence the boundary groups.
	for range 2 {
		s = emphasis.ReplaceAllString(s, "$1$3$5")
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
