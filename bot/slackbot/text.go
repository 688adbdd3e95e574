package slackbot

import (
	"strings"
	"unicode/utf8"
)

// Slack's limits on what a message may hold. Lengths of mrkdwn texts and
// values are checked in bytes of UTF-8, which is never less than Slack's
// count in characters or UTF-16 units, so a text within the limit in bytes
// is within it however Slack counts. Plain-text labels (headers, buttons,
// menu options), which Slack caps far lower, are counted in characters as
// Slack counts them (plainLen), so that a title in Swedish is not cut
// sooner than one in English.
const (
	maxBlocks      = 50
	maxSectionText = 3000
	maxContextText = 3000
	maxContextElem = 10
	maxHeaderText  = 150
	maxButtonText  = 75
	maxOptionText  = 75
	maxButtonValue = 2000
	maxActionID    = 255
	maxBlockID     = 255
	maxActionElems = 25
	// maxSelectOptions is Slack's limit on a static menu's options.
	maxSelectOptions = 100
	// maxQuestionButtons is how many options a question shows as buttons;
	// more go into a menu.
	maxQuestionButtons = 5
	// maxRelated bounds the entries offered next to an answer.
	maxRelated = 5
	// maxFallback bounds the notification text; Slack truncates at 40,000
	// characters and recommends far less.
	maxFallback = 3000
	// maxEcho bounds how much of the user's text a reply quotes.
	maxEcho = 500
)

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes s safe to put into any Slack text: &, < and > become
// entities, so pasted <!channel>, <@U123> or <https://…|…> show as written
// and never ping or link anyone.
func escape(s string) string { return escaper.Replace(s) }

// mrkdwn escapes catalog or engine text and turns its Markdown **bold**
// into Slack's *bold*.
func mrkdwn(s string) string { return plainBold(escape(s)) }

// plainBold turns **bold** into *bold* for text that is escaped elsewhere:
// two asterisks, one or more characters other than an asterisk or a line
// break, two asterisks; leftmost first, as the pattern
// \*\*([^*\n]+?)\*\* would (FuzzPlainBold), at a tenth of its cost: every
// reply's blocks and fallback text pass through here.
func plainBold(s string) string {
	i := strings.Index(s, "**")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		j := i + 2
		for j < len(s) && s[j] != '*' && s[j] != '\n' {
			j++
		}
		if j > i+2 && j+1 < len(s) && s[j] == '*' && s[j+1] == '*' {
			b.WriteString(s[:i])
			b.WriteByte('*')
			b.WriteString(s[i+2 : j])
			b.WriteByte('*')
			s = s[j+2:]
			i = strings.Index(s, "**")
			continue
		}
		// No bold starts at i; the next can start at i+1 at the earliest.
		next := strings.Index(s[i+1:], "**")
		if next < 0 {
			break
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
		i = next
	}
	b.WriteString(s)
	return b.String()
}

// splitPoint returns where to cut s so that s[:i] has at most n bytes: at
// a rune boundary, preferably after a space, never inside an entity such as
// &amp;.
func splitPoint(s string, n int) int {
	if len(s) <= n {
		return len(s)
	}
	i := max(n, 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if amp := strings.LastIndexByte(s[:i], '&'); amp >= 0 && i-amp < len("&amp;") && !strings.Contains(s[amp:i], ";") {
		i = amp
	}
	if sp := strings.LastIndexAny(s[:i], " \n"); sp > i*2/3 {
		i = sp + 1
	}
	return i
}

// cut shortens s to at most n bytes, at a rune boundary and preferably at a
// space, and marks the cut with an ellipsis.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	i := splitPoint(s, n-len(ellipsis))
	return strings.TrimRight(s[:i], " \n") + ellipsis
}

// chunk splits text into pieces of at most n bytes, at line ends where it
// can, at spaces where a line is too long, and at rune boundaries where a
// word is.
func chunk(text string, n int) []string {
	if len(text) <= n {
		return []string{text}
	}
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimRight(cur.String(), " \n"); s != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		for len(line) > n {
			flush()
			i := splitPoint(line, n)
			if i == 0 {
				_, i = utf8.DecodeRuneInString(line)
			}
			cur.WriteString(line[:i])
			flush()
			line = line[i:]
		}
		if cur.Len()+len(line) > n {
			flush()
		}
		cur.WriteString(line)
	}
	flush()
	return out
}

// cutRaw shortens s to at most n bytes at a rune boundary, without a mark.
func cutRaw(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// plainLen is the length Slack counts in a plain_text field: characters,
// those beyond the Basic Multilingual Plane (emoji) as two, as in UTF-16.
func plainLen(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// cutChars shortens s to at most n characters as plainLen counts them,
// preferably at a space, and marks the cut with an ellipsis.
func cutChars(s string, n int) string {
	if plainLen(s) <= n {
		return s
	}
	const ellipsis = "…"
	end, used := 0, 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if used+w > n-1 {
			end = i
			break
		}
		used += w
	}
	if sp := strings.LastIndexAny(s[:end], " \n"); sp > end*2/3 {
		end = sp
	}
	return strings.TrimRight(s[:end], " \n") + ellipsis
}
