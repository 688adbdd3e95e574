package plain

import (
	"encoding/json"
	"math"

	"github.com/enrollbot/enrollbot/bot"
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
		Candidates: []JSONCandidate{}, Questions: []JSONQuestion{}}
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
