package plain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// JSONReply is the `enrollbot ask --json` contract that scripts and CI rely
// on. Fields are only ever added, never renamed.
type JSONReply struct {
	Kind       string          `json:"kind"`
	Lang       string          `json:"lang"`
	Entry      string          `json:"entry,omitempty"`
	Candidates []JSONCandidate `json:"candidates"`
	Code       *JSONCode       `json:"code,omitempty"`
	Questions  []JSONQuestion  `json:"questions"`
	Text       string          `json:"text"`
	// Causes are the causes still in play, most likely first.
	Causes []JSONCause `json:"causes"`
	// Facts are what the conversation knows: checklist question id →
	// option id.
	Facts map[string]string `json:"facts"`
	// RuledOut are the causes the facts exclude, with why.
	RuledOut []JSONRuledOut `json:"ruled_out,omitempty"`
	// Summary is the conversation summed up (summary and handoff).
	Summary string `json:"summary,omitempty"`
	// Link is the page an out-of-scope reply points to.
	Link *JSONLink `json:"link,omitempty"`
}

// JSONCause is a cause in play.
type JSONCause struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// JSONRuledOut is a cause the facts exclude.
type JSONRuledOut struct {
	ID      string `json:"id"`
	Text    string `json:"text"`
	Because string `json:"because"`
}

// JSONLink is a page to read.
type JSONLink struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// JSONCandidate is an entry id with the matcher's confidence.
type JSONCandidate struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// JSONCode is a recognized error code.
type JSONCode struct {
	Hex    string `json:"hex,omitempty"`
	Symbol string `json:"symbol,omitempty"`
}

// JSONQuestion is a follow-up question.
type JSONQuestion struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// ToJSON converts a reply to the contract's shape.
func ToJSON(r bot.Reply) JSONReply {
	out := JSONReply{Kind: string(r.Kind), Lang: string(r.Lang), Text: Render(r),
		Candidates: []JSONCandidate{}, Questions: []JSONQuestion{}, Causes: []JSONCause{},
		Facts: map[string]string{}, Summary: r.Summary}
	for _, c := range r.Causes {
		out.Causes = append(out.Causes, JSONCause{ID: c.ID, Text: c.Text})
	}
	for _, c := range r.RuledOut {
		out.RuledOut = append(out.RuledOut, JSONRuledOut{ID: c.ID, Text: c.Text, Because: c.Because})
	}
	for q, o := range r.Facts {
		out.Facts[q] = o
	}
	if r.Link != nil {
		out.Link = &JSONLink{Title: r.Link.Title, URL: r.Link.URL}
	}
	if r.Kind == bot.KindAnswer && r.Entry != nil {
		out.Entry = r.Entry.ID
	}
	for _, c := range r.Candidates {
		out.Candidates = append(out.Candidates, JSONCandidate{ID: c.ID, Score: math.Round(c.Score*1000) / 1000})
	}
	if r.Code != nil {
		out.Code = &JSONCode{Hex: r.Code.Hex, Symbol: r.Code.Symbol}
	}
	for _, q := range r.Questions {
		out.Questions = append(out.Questions, JSONQuestion{ID: q.ID, Text: q.Text})
	}
	return out
}

// MarshalJSON renders the reply as one JSON object.
func MarshalJSON(r bot.Reply) ([]byte, error) {
	return json.Marshal(ToJSON(r))
}

// JSONInput is one line of `enrollbot chat --json` input: a typed message
// (text, with optional lang, locale and user) or a button's action.
type JSONInput struct {
	Text     string `json:"text"`
	Lang     string `json:"lang"`
	Locale   string `json:"locale"`
	User     string `json:"user"`
	Action   string `json:"action"`
	Entry    string `json:"entry"`
	Question string `json:"question"`
	Option   string `json:"option"`
}

// maxInputField bounds the identifiers an input line may carry.
const maxInputField = 200

// ParseInput reads one input line into the engine's Input and the user it
// comes from. A line must be one JSON object with text or a known action.
func ParseInput(line []byte) (bot.Input, string, error) {
	var j JSONInput
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return bot.Input{}, "", fmt.Errorf("parse input: %w", err)
	}
	in := bot.Input{Action: bot.Action(j.Action), Text: j.Text, Locale: cut(j.Locale, 35),
		Entry: cut(j.Entry, maxInputField), Question: cut(j.Question, maxInputField), Option: cut(j.Option, maxInputField)}
	if j.Lang != "" {
		l, ok := kb.LangFromLocale(j.Lang)
		if !ok {
			return bot.Input{}, "", fmt.Errorf("parse input: lang %q is not en, nl, sv or de", j.Lang)
		}
		in.Lang = l
	}
	switch {
	case in.Action == bot.ActMessage:
	case slices.Contains(bot.Actions, in.Action):
		if in.Action == bot.ActPick && in.Entry == "" {
			return bot.Input{}, "", errors.New("parse input: pick needs an entry")
		}
		if in.Action == bot.ActChoose && (in.Question == "" || in.Option == "") {
			return bot.Input{}, "", errors.New("parse input: choose needs a question and an option")
		}
	default:
		return bot.Input{}, "", fmt.Errorf("parse input: unknown action %q", j.Action)
	}
	return in, cut(j.User, maxInputField), nil
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
