package eval

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/plain"
)

// Conversation is one labelled conversation (a line of the conversation
// set): inputs as `enrollbot chat --json` takes them, each with what its
// reply must satisfy.
type Conversation struct {
	ID    string     `json:"id"`
	Desc  string     `json:"desc"`
	Turns []ConvTurn `json:"turns"`

	line int
}

// ConvTurn is one input and what its reply must satisfy.
type ConvTurn struct {
	In   json.RawMessage `json:"in"`
	Want Want            `json:"want"`
}

// Want is what a reply must satisfy; empty fields are not checked.
type Want struct {
	Kind    string   `json:"kind"`
	KindAny []string `json:"kind_any"`
	Entry   string   `json:"entry"`
	// Entries must all be among the choices offered.
	Entries []string `json:"entries"`
	// NotEntries must be neither the answer nor among the choices.
	NotEntries []string `json:"not_entries"`
	Lang       string   `json:"lang"`
	// Facts must be among what the conversation knows.
	Facts map[string]string `json:"facts"`
	// FirstCause must be the cause shown first; NotFirstCause must not.
	FirstCause    string `json:"first_cause"`
	NotFirstCause string `json:"not_first_cause"`
	Code          string `json:"code"`
	// DiffersFromPrevious: the reply text is not the previous turn's.
	DiffersFromPrevious bool `json:"differs_from_previous"`
}

// ReadConversations parses a JSON Lines conversation set.
func ReadConversations(r io.Reader) ([]Conversation, error) {
	var out []Conversation
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for n := 1; sc.Scan(); n++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var c Conversation
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if len(c.Turns) == 0 {
			return nil, fmt.Errorf("line %d: conversation %q has no turns", n, c.ID)
		}
		c.line = n
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read conversation set: %w", err)
	}
	return out, nil
}

// IsConversationSet reports whether the first line of data is a
// conversation (it has turns) rather than a single query.
func IsConversationSet(first []byte) bool {
	var probe struct {
		Turns json.RawMessage `json:"turns"`
	}
	return json.Unmarshal(first, &probe) == nil && len(probe.Turns) > 0
}

// ConvReport holds the figures of a conversation run.
type ConvReport struct {
	Conversations, ConversationsOK int
	Turns, TurnsOK                 int
	// ByKind counts turns and right turns per expected kind.
	ByKind   map[string][2]int
	Failures []string
}

// RunConversations plays every conversation against the engine from an
// empty state, as `enrollbot chat --json` would.
func RunConversations(ctx context.Context, e *bot.Engine, convs []Conversation) (ConvReport, error) {
	rep := ConvReport{ByKind: map[string][2]int{}}
	for _, c := range convs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		var st bot.State
		prev := ""
		ok := true
		for i, t := range c.Turns {
			in, _, err := plain.ParseInput(t.In)
			if err != nil {
				return rep, fmt.Errorf("line %d (%s) turn %d: %w", c.line, c.ID, i+1, err)
			}
			var r bot.Reply
			r, st = e.Respond(st, in)
			text := plain.Render(r)
			missed := check(t.Want, r, text, prev)
			prev = text
			key := t.Want.Kind
			if key == "" {
				key = strings.Join(t.Want.KindAny, "|")
			}
			counts := rep.ByKind[key]
			counts[0]++
			rep.Turns++
			if len(missed) == 0 {
				rep.TurnsOK++
				counts[1]++
			} else {
				ok = false
				rep.Failures = append(rep.Failures, fmt.Sprintf("%s turn %d %s: %s", c.ID, i+1, t.In, strings.Join(missed, "; ")))
			}
			rep.ByKind[key] = counts
		}
		rep.Conversations++
		if ok {
			rep.ConversationsOK++
		}
	}
	return rep, nil
}

// check lists what r misses of w.
func check(w Want, r bot.Reply, text, prev string) []string {
	var missed []string
	kind := string(r.Kind)
	if w.Kind != "" && kind != w.Kind {
		missed = append(missed, fmt.Sprintf("kind %s, want %s", kind, w.Kind))
	}
	if len(w.KindAny) > 0 && !slices.Contains(w.KindAny, kind) {
		missed = append(missed, fmt.Sprintf("kind %s, want one of %v", kind, w.KindAny))
	}
	answered := ""
	if r.Kind == bot.KindAnswer && r.Entry != nil {
		answered = r.Entry.ID
	}
	var offered []string
	if r.Kind == bot.KindChoices {
		for _, c := range r.Choices {
			offered = append(offered, c.ID)
		}
	}
	if w.Entry != "" && answered != w.Entry {
		missed = append(missed, fmt.Sprintf("entry %q, want %q", answered, w.Entry))
	}
	for _, id := range w.Entries {
		if !slices.Contains(offered, id) {
			missed = append(missed, "choices lack "+id)
		}
	}
	for _, id := range w.NotEntries {
		if answered == id || slices.Contains(offered, id) {
			missed = append(missed, "offered "+id)
		}
	}
	if w.Lang != "" && string(r.Lang) != w.Lang {
		missed = append(missed, fmt.Sprintf("lang %s, want %s", r.Lang, w.Lang))
	}
	for q, o := range w.Facts {
		if r.Facts[q] != o {
			missed = append(missed, fmt.Sprintf("fact %s=%q, want %q", q, r.Facts[q], o))
		}
	}
	first := ""
	if r.Entry != nil && len(r.Entry.Causes) > 0 && r.Kind == bot.KindAnswer {
		first = r.Entry.Causes[0].ID
	}
	if w.FirstCause != "" && first != w.FirstCause {
		missed = append(missed, fmt.Sprintf("first cause %q, want %q", first, w.FirstCause))
	}
	if w.NotFirstCause != "" && first == w.NotFirstCause {
		missed = append(missed, "first cause is still "+first)
	}
	if w.Code != "" && (r.Code == nil || r.Code.Hex != w.Code) {
		missed = append(missed, "code not "+w.Code)
	}
	if w.DiffersFromPrevious && text == prev {
		missed = append(missed, "same reply as the previous turn")
	}
	return missed
}

// ConvFloors are the minimum figures of a conversation run.
type ConvFloors struct {
	Turns, Conversations float64
}

// DefaultConvFloors are the targets the project committed to for the
// conversation set.
var DefaultConvFloors = ConvFloors{Turns: 0.90, Conversations: 0.80}

// Check lists every floor the report misses.
func (rep ConvReport) Check(f ConvFloors) []string {
	var out []string
	if v := Rate(rep.TurnsOK, rep.Turns); v < f.Turns {
		out = append(out, fmt.Sprintf("turns right %.1f%% < %.1f%%", 100*v, 100*f.Turns))
	}
	if v := Rate(rep.ConversationsOK, rep.Conversations); v < f.Conversations {
		out = append(out, fmt.Sprintf("conversations fully right %.1f%% < %.1f%%", 100*v, 100*f.Conversations))
	}
	return out
}

// Write prints the figures, then the misses when verbose.
func (rep ConvReport) Write(w io.Writer, verbose bool) {
	fmt.Fprintf(w, "conversations:      %d\n", rep.Conversations)
	fmt.Fprintf(w, "fully right:        %.1f%% (%d/%d)\n", 100*Rate(rep.ConversationsOK, rep.Conversations), rep.ConversationsOK, rep.Conversations)
	fmt.Fprintf(w, "turns right:        %.1f%% (%d/%d)\n", 100*Rate(rep.TurnsOK, rep.Turns), rep.TurnsOK, rep.Turns)
	kinds := make([]string, 0, len(rep.ByKind))
	for k := range rep.ByKind {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		c := rep.ByKind[k]
		fmt.Fprintf(w, "  %-28s %d/%d\n", k, c[1], c[0])
	}
	if verbose {
		for _, f := range rep.Failures {
			fmt.Fprintln(w, "  miss:", f)
		}
	}
}
