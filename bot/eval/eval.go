// Package eval scores the engine against a labelled query set: the evidence
// behind every change to the matcher's thresholds.
package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// Case is one labelled query (one line of the JSON Lines file).
type Case struct {
	Query string `json:"q"`
	// Want is the expected kind: answer, choices, code or clarify.
	Want string `json:"want"`
	// Entry is the expected entry for answers.
	Entry string `json:"entry,omitempty"`
	// Entries are the expected choices, in any order.
	Entries []string `json:"entries,omitempty"`
	// Code is the expected canonical hex code for want=code.
	Code string `json:"code,omitempty"`
	// Lang is the expected reply language.
	Lang   string `json:"lang"`
	Locale string `json:"locale,omitempty"`
	// Hint is an explicit language choice.
	Hint     string   `json:"hint,omitempty"`
	OffTopic bool     `json:"offtopic,omitempty"`
	Tags     []string `json:"tags,omitempty"`

	line int
}

// Read parses a JSON Lines query set.
func Read(r io.Reader) ([]Case, error) {
	var cases []Case
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var c Case
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		c.line = n
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read query set: %w", err)
	}
	return cases, nil
}

// Report holds the figures of one run. Rates are fractions in [0, 1].
type Report struct {
	Total int
	// Top1 is, over queries whose answer is one entry, the share whose best
	// candidate is that entry (answered, or offered first among choices).
	Top1, Top1Of int
	// Answered is, of the same queries, how many got exactly that answer.
	Answered int
	// Wrong counts answers naming the wrong entry, over all on-topic queries.
	Wrong, OnTopic int
	// Rejected counts off-topic queries that got no catalog answer.
	Rejected, OffTopic int
	// KindOK counts queries whose reply kind is the expected one.
	KindOK int
	// LangOK counts replies in the expected language.
	LangOK int
	// Failures describes every query that missed in some way.
	Failures []string
}

// Rate returns n/of, or 1 when of is zero.
func Rate(n, of int) float64 {
	if of == 0 {
		return 1
	}
	return float64(n) / float64(of)
}

// Run asks the engine every case, each as a fresh conversation.
func Run(ctx context.Context, e *bot.Engine, cases []Case) (Report, error) {
	var rep Report
	for _, c := range cases {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		r, _ := e.Respond(bot.State{}, bot.Input{Text: c.Query, Lang: kb.Lang(c.Hint), Locale: c.Locale})
		rep.add(c, r)
	}
	return rep, nil
}

func (rep *Report) add(c Case, r bot.Reply) {
	rep.Total++
	var missed []string
	top := ""
	if len(r.Candidates) > 0 && (r.Kind == bot.KindAnswer || r.Kind == bot.KindChoices) {
		top = r.Candidates[0].ID
	}
	answered := ""
	if r.Kind == bot.KindAnswer && r.Entry != nil {
		answered = r.Entry.ID
	}

	if c.OffTopic {
		rep.OffTopic++
		if r.Kind == bot.KindClarify || r.Kind == bot.KindOutOfScope || r.Kind == bot.KindSmalltalk {
			rep.Rejected++
		} else {
			missed = append(missed, "off-topic got "+string(r.Kind))
		}
	} else {
		rep.OnTopic++
		if answered != "" && !(c.Want == "answer" && answered == c.Entry) &&
			!(c.Want == "choices" && slices.Contains(c.Entries, answered)) {
			rep.Wrong++
			missed = append(missed, "WRONG answer "+answered)
		}
	}
	if c.Want == "answer" {
		rep.Top1Of++
		if top == c.Entry {
			rep.Top1++
		} else {
			missed = append(missed, fmt.Sprintf("top-1 %q, want %q", top, c.Entry))
		}
		if answered == c.Entry {
			rep.Answered++
		}
	}
	kindOK := string(r.Kind) == c.Want
	switch {
	case kindOK && c.Want == "choices":
		var got []string
		for _, ch := range r.Choices {
			got = append(got, ch.ID)
		}
		for _, want := range c.Entries {
			if !slices.Contains(got, want) {
				kindOK = false
				missed = append(missed, "choices lack "+want)
			}
		}
	case kindOK && c.Want == "code":
		if r.Code == nil || r.Code.Hex != c.Code {
			kindOK = false
			missed = append(missed, "wrong code")
		}
	}
	if kindOK {
		rep.KindOK++
	} else if string(r.Kind) != c.Want {
		missed = append(missed, fmt.Sprintf("kind %s, want %s", r.Kind, c.Want))
	}
	if string(r.Lang) == c.Lang {
		rep.LangOK++
	} else {
		missed = append(missed, fmt.Sprintf("lang %s, want %s", r.Lang, c.Lang))
	}
	if len(missed) > 0 {
		rep.Failures = append(rep.Failures, fmt.Sprintf("line %d %q: %v", c.line, c.Query, missed))
	}
}

// Floors are the minimum figures a build must reach.
type Floors struct {
	Top1, MaxWrong, OffTopic, Lang float64
}

// DefaultFloors are the targets the project committed to.
var DefaultFloors = Floors{Top1: 0.95, MaxWrong: 0.01, OffTopic: 0.95, Lang: 0.98}

// AdminFloors are the targets for admin phrasing (testdata/eval/admin.jsonl:
// abbreviations, log and JSON fragments, event trails, shorthand codes),
// where a clarifying question is fairer than on a pasted device message;
// wrong answers are held to the same bound.
var AdminFloors = Floors{Top1: 0.92, MaxWrong: 0.01, OffTopic: 0.95, Lang: 0.96}

// FloorSets name the floors a query set is held to (eval --floors NAME).
var FloorSets = map[string]Floors{"queries": DefaultFloors, "admin": AdminFloors}

// Check lists every floor the report misses.
func (rep Report) Check(f Floors) []string {
	var out []string
	if v := Rate(rep.Top1, rep.Top1Of); v < f.Top1 {
		out = append(out, fmt.Sprintf("top-1 accuracy %.1f%% < %.1f%%", 100*v, 100*f.Top1))
	}
	if v := Rate(rep.Wrong, rep.OnTopic); rep.OnTopic > 0 && v > f.MaxWrong {
		out = append(out, fmt.Sprintf("wrong answers %.1f%% > %.1f%%", 100*v, 100*f.MaxWrong))
	}
	if v := Rate(rep.Rejected, rep.OffTopic); v < f.OffTopic {
		out = append(out, fmt.Sprintf("off-topic rejected %.1f%% < %.1f%%", 100*v, 100*f.OffTopic))
	}
	if v := Rate(rep.LangOK, rep.Total); v < f.Lang {
		out = append(out, fmt.Sprintf("reply language %.1f%% < %.1f%%", 100*v, 100*f.Lang))
	}
	return out
}

// Write prints the figures, then the misses when verbose.
func (rep Report) Write(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "queries:            %d\n", rep.Total)
	fmt.Fprintf(w, "top-1 accuracy:     %.1f%% (%d/%d)\n", 100*Rate(rep.Top1, rep.Top1Of), rep.Top1, rep.Top1Of)
	fmt.Fprintf(w, "answered outright:  %.1f%% (%d/%d)\n", 100*Rate(rep.Answered, rep.Top1Of), rep.Answered, rep.Top1Of)
	fmt.Fprintf(w, "wrong answers:      %.1f%% (%d/%d)\n", 100*float64(rep.Wrong)/float64(max(rep.OnTopic, 1)), rep.Wrong, rep.OnTopic)
	fmt.Fprintf(w, "off-topic rejected: %.1f%% (%d/%d)\n", 100*Rate(rep.Rejected, rep.OffTopic), rep.Rejected, rep.OffTopic)
	fmt.Fprintf(w, "expected kind:      %.1f%% (%d/%d)\n", 100*Rate(rep.KindOK, rep.Total), rep.KindOK, rep.Total)
	fmt.Fprintf(w, "reply language:     %.1f%% (%d/%d)\n", 100*Rate(rep.LangOK, rep.Total), rep.LangOK, rep.Total)
	if verbose {
		for _, f := range rep.Failures {
			fmt.Fprintln(w, "  miss:", f)
		}
	}
}
