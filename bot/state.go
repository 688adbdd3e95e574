package bot

import (
	"maps"
	"slices"

	"github.com/enrollbot/enrollbot/kb"
)

// State is what a conversation knows between turns. It is bounded: a user
// who pastes a megabyte a turn does not grow it.
type State struct {
	// Lang is the language the conversation is in.
	Lang kb.Lang `json:"lang,omitempty"`
	// LangChosen reports that the user asked for Lang in this conversation:
	// it wins over what later turns are written in.
	LangChosen bool `json:"lang_chosen,omitempty"`
	// Text is what the user said about the problem while the bot was unsure,
	// and the details added since: matched and weighed together.
	Text string `json:"text,omitempty"`
	// Error is the problem as first pasted, for the summary.
	Error string `json:"error,omitempty"`
	// Codes are the error codes seen (canonical hex or symbol).
	Codes []string `json:"codes,omitempty"`
	// Choices are the entry ids offered, in the order they were numbered.
	Choices []string `json:"choices,omitempty"`
	// Entry is the entry answered last.
	Entry string `json:"entry,omitempty"`
	// Causes are the entry's cause ids in the order last shown.
	Causes []string `json:"causes,omitempty"`
	// Tried are cause ids the user said did not help.
	Tried []string `json:"tried,omitempty"`
	// Related are other entries the match considered, same platform first:
	// what to offer when the entry's causes run out.
	Related []string `json:"related,omitempty"`
	// Shown are the entries shown so far, for the summary.
	Shown []string `json:"shown,omitempty"`
	// Facts are checklist answers: question id → option id.
	Facts map[string]string `json:"facts,omitempty"`
	// Asked are the questions the last reply asked: a short reply answers
	// them.
	Asked []string `json:"asked,omitempty"`
	// Last is the kind of the last reply.
	Last Kind `json:"last,omitempty"`
	// Clarified counts clarify replies in a row.
	Clarified int `json:"clarified,omitempty"`
	// Verdict is what the user said of the last answer: solved, not_solved.
	Verdict string `json:"verdict,omitempty"`
	// Topic is the out-of-scope topic the user named last.
	Topic string `json:"topic,omitempty"`
	// HandoffAsked reports that the last reply asked to confirm a hand-off:
	// a "yes" now sends it.
	HandoffAsked bool `json:"handoff_asked,omitempty"`
	// Ticket is the reference of the conversation's open ticket: a second
	// request for a person adds to it.
	Ticket string `json:"ticket,omitempty"`
	// Turn is the ID of the turn that saved the state (Turn.ID), so that
	// a delivery worked twice is not taken twice.
	Turn string `json:"turn,omitempty"`
}

// Bounds on what a State keeps.
const (
	maxStateText  = 2000
	maxStateError = 600
	maxStateList  = 16
)

// clone returns a copy whose maps and slices the caller may change.
func (s State) clone() State {
	s.Codes = slices.Clone(s.Codes)
	s.Choices = slices.Clone(s.Choices)
	s.Causes = slices.Clone(s.Causes)
	s.Tried = slices.Clone(s.Tried)
	s.Related = slices.Clone(s.Related)
	s.Shown = slices.Clone(s.Shown)
	s.Asked = slices.Clone(s.Asked)
	s.Facts = maps.Clone(s.Facts)
	return s
}

// bound cuts what grows with the user's input.
func (s State) bound() State {
	s.Text = lastRunes(s.Text, maxStateText)
	s.Error = firstRunes(s.Error, maxStateError)
	for _, l := range []*[]string{&s.Codes, &s.Choices, &s.Causes, &s.Tried, &s.Related, &s.Shown, &s.Asked} {
		if len(*l) > maxStateList {
			*l = (*l)[len(*l)-maxStateList:]
		}
	}
	return s
}

// active reports whether the conversation is about a problem already.
func (s State) active() bool { return s.Entry != "" || len(s.Choices) > 0 }

func firstRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// lastRunes keeps the end: the latest details matter most.
func lastRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[len(r)-n:])
}

func addUnique(list []string, ids ...string) []string {
	for _, id := range ids {
		if id != "" && !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}
