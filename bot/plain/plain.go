// Package plain renders engine replies as plain text: for the terminal, the
// `ask --json` contract's text field, and the notification fallback of chat
// channels that render richer formats.
package plain

import (
	"fmt"
	"strings"

	"github.com/enrollbot/enrollbot/bot"
)

// Render returns the reply as plain text. Markdown-style **bold** from the
// catalog is kept: it reads fine as text and marks UI labels.
func Render(r bot.Reply) string {
	var sections [][]string
	section := func(lines ...string) {
		var kept []string
		for _, l := range lines {
			if l != "" {
				kept = append(kept, l)
			}
		}
		if len(kept) > 0 {
			sections = append(sections, kept)
		}
	}
	for _, n := range r.Notices {
		section("(" + n + ")")
	}
	if r.Kind == bot.KindAnswer && r.Intro != "" {
		section(r.Intro)
	}
	if c := r.Code; c != nil && !(r.Brief && r.Kind == bot.KindAnswer) {
		section(codeLines(c)...)
	}
	switch r.Kind {
	case bot.KindAnswer:
		e := r.Entry
		if e == nil {
			break
		}
		section(fmt.Sprintf("%s (%s)", e.Title, e.Platform.Name()))
		causes := e.Causes
		if r.Brief && len(causes) > 1 {
			causes = causes[:1]
		}
		for _, c := range causes {
			lines := []string{c.Heading + ": " + c.Summary}
			for i, s := range c.Steps {
				lines = append(lines, fmt.Sprintf("  %d. %s", i+1, s))
			}
			for _, n := range c.Notes {
				lines = append(lines, fmt.Sprintf("  %s: %s", r.Words.Note, n))
			}
			section(lines...)
		}
		if len(causes) < len(e.Causes) {
			section(r.Words.MoreCauses)
		}
		if len(e.Collect) > 0 && !r.Brief {
			lines := []string{r.Words.Collect}
			for _, c := range e.Collect {
				lines = append(lines, "  - "+c)
			}
			section(lines...)
		}
		if len(r.RuledOut) > 0 && !r.Brief {
			lines := []string{r.Words.RuledOut + ":"}
			for _, c := range r.RuledOut {
				lines = append(lines, fmt.Sprintf("  - %s (%s %s)", c.Text, r.Words.Because, c.Because))
			}
			section(lines...)
		}
		section(r.Words.Source + ": " + e.SourceURL)
		if len(r.Choices) > 0 {
			lines := []string{r.Words.Related}
			for _, c := range r.Choices {
				lines = append(lines, fmt.Sprintf("  - %s (%s)", c.Title, c.Platform.Name()))
			}
			section(lines...)
		}
	case bot.KindChoices:
		lines := []string{r.Intro}
		for _, c := range r.Choices {
			lines = append(lines, fmt.Sprintf("  %d. %s (%s)", c.N, c.Title, c.Platform.Name()))
		}
		section(append(lines, r.Hint)...)
	case bot.KindCode:
	default:
		section(r.Intro)
	}
	if r.Link != nil {
		section(r.Link.Title + ": " + r.Link.URL)
	}
	if r.Summary != "" {
		var lines []string
		for _, l := range strings.Split(r.Summary, "\n") {
			lines = append(lines, "  "+l)
		}
		section(lines...)
	}
	if len(r.Questions) > 0 {
		var lines []string
		if r.Kind != bot.KindClarify {
			lines = append(lines, r.Words.FollowUp)
		}
		for _, q := range r.Questions {
			line := "  - " + q.Text
			if len(q.Options) > 0 {
				labels := make([]string, len(q.Options))
				for i, o := range q.Options {
					labels[i] = o.Label
				}
				line += " (" + strings.Join(labels, " / ") + ")"
			}
			lines = append(lines, line)
		}
		section(lines...)
	}
	if r.OfferPerson {
		section("(" + r.Words.Person + ": \"" + personHint(r) + "\")")
	}
	if r.ConfirmHandoff {
		section("(" + r.Words.Send + " / " + r.Words.Cancel + ")")
	}
	var b strings.Builder
	for i, sec := range sections {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, l := range sec {
			b.WriteString(l)
			b.WriteString("\n")
		}
	}
	return b.String()
}

func codeLines(c *bot.Code) []string {
	title := c.Title
	if c.Symbol != "" && c.Hex != "" {
		title += " (" + c.Symbol + ")"
	}
	lines := []string{title, c.Repaired}
	if c.NoEntry != "" {
		lines = append(lines, c.NoEntry)
	}
	return append(lines, "  "+c.Meaning)
}

// personHint is what a terminal user types to reach a person: the button's
// label, which the engine reads like the words it stands for.
func personHint(r bot.Reply) string { return strings.ToLower(r.Words.Person) }
