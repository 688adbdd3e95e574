// Package bot is enrollbot's conversation, free of any chat channel.
//
// Engine.Respond is the conversation itself: a pure function from what the
// conversation knows (State) and what the user did (Input) to a structured
// Reply and the next State, with no I/O and no clock. Sessions is the one
// layer around it that loads and saves state, counts the rate limit, saves
// language preferences, records verdicts and unanswered questions, and
// observes metrics. Channel adapters (bot/slackbot, bot/teamsbot) and the
// command line only translate: wire format → Input → Sessions → render.
package bot

import "github.com/enrollbot/enrollbot/kb"

// Kind is the outcome a reply reports.
type Kind string

// The reply kinds.
const (
	// KindAnswer is a diagnosis: one entry, its causes and steps.
	KindAnswer Kind = Kind(kb.Answer)
	// KindChoices offers two to four entries to pick from.
	KindChoices Kind = Kind(kb.Choices)
	// KindCode explains a known code the catalog has no entry for.
	KindCode Kind = Kind(kb.CodeOnly)
	// KindClarify asks instead of guessing.
	KindClarify Kind = Kind(kb.Clarify)
	// KindOutOfScope says what the catalog covers and where to read
	// instead (Android, macOS, set-up questions…).
	KindOutOfScope Kind = "out_of_scope"
	// KindSmalltalk answers a greeting, help, thanks, goodbye or a
	// language switch with nothing to re-send.
	KindSmalltalk Kind = "smalltalk"
	// KindSummary is the conversation summed up for a ticket.
	KindSummary Kind = "summary"
	// KindHandoff hands the conversation to a person, or says how to reach
	// one, with the summary.
	KindHandoff Kind = "handoff"
	// KindLimited asks a user over the rate limit to wait; nothing was
	// matched. Channels where the bot speaks unasked stay silent on it.
	KindLimited Kind = "limited"
)

// Action is what a button (or its typed equivalent) asks for.
type Action string

// The actions an Input can carry; the empty action is a typed message.
const (
	ActMessage     Action = ""
	ActPick        Action = "pick"
	ActChoose      Action = "choose"
	ActSolved      Action = "solved"
	ActNotSolved   Action = "not_solved"
	ActOtherCauses Action = "other_causes"
	ActAllCauses   Action = "all_causes"
	ActLang        Action = "lang"
	ActPerson      Action = "person"
	ActSummary     Action = "summary"
	// ActShow shows the conversation's current reply again (Post to
	// channel, a card rebuilt after feedback).
	ActShow Action = "show"
	// ActHandoffSend confirms a hand-off to people; ActHandoffCancel
	// declines it.
	ActHandoffSend   Action = "handoff_send"
	ActHandoffCancel Action = "handoff_cancel"
)

// Actions lists every action with a meaning, for parsers of button data.
var Actions = []Action{ActPick, ActChoose, ActSolved, ActNotSolved, ActOtherCauses, ActAllCauses,
	ActLang, ActPerson, ActSummary, ActShow, ActHandoffSend, ActHandoffCancel}

// Input is one thing a user did: wrote a message or pressed a button.
type Input struct {
	// Action is what a button asks for; empty for a typed message.
	Action Action
	// Text is what the user wrote or pasted, markup included.
	Text string
	// Entry is the entry picked (ActPick) or judged (ActSolved, ActNotSolved).
	Entry string
	// Question and Option answer a checklist question (ActChoose).
	Question, Option string
	// Lang is an explicit language: the one chosen (ActLang), or for other
	// inputs a saved preference or a flag; empty when the user made none.
	Lang kb.Lang
	// Locale is the chat client's locale (nl-BE, de-AT); empty when unknown.
	Locale string
}

// Reply is what the engine answers, already in the reply language but not
// yet formatted for any channel.
type Reply struct {
	Kind Kind
	Lang kb.Lang
	// Intro is the lead sentence (choices, clarify, smalltalk, out of
	// scope, handoff), or for a follow-up answer what changed and why.
	Intro string
	// Hint tells the user how to answer (choices).
	Hint string
	// Entry is the diagnosis (answer).
	Entry *Entry
	// Brief asks renderers to show only the first cause of Entry, with the
	// others one tap ("All causes") away: a follow-up, not the diagnosis
	// again.
	Brief bool
	// Choices are the candidates to pick from (choices), or other entries
	// worth a look next to an answer.
	Choices []Choice
	// Code is the error code the user gave, when one was recognized.
	Code *Code
	// Questions are follow-up questions from the prerequisites checklist.
	Questions []Question
	// Candidates are the matcher's best guesses with their scores, for
	// diagnostics and the JSON contract.
	Candidates []Candidate
	// Notices are remarks about the input (truncated, unreadable bytes,
	// a code read after repair).
	Notices []string
	// Link is the Learn page an out-of-scope reply points to.
	Link *Link
	// Summary is the conversation summed up (summary, handoff).
	Summary string
	// Facts are what the conversation knows from the checklist: question
	// id → option id.
	Facts map[string]string
	// Causes are the causes still in play, most likely first.
	Causes []CauseRef
	// RuledOut are the causes the facts rule out, with why.
	RuledOut []RuledOutCause
	// Verdict is what the user said of the answer in this turn (solved or
	// not solved), for Sessions to record; empty when nothing.
	Verdict *Verdict
	// SetLang is a language the user asked for in this turn, for Sessions
	// to save as the user's preference.
	SetLang kb.Lang
	// Chatter marks a turn that was not addressed to the bot (a remark in a
	// thread, a greeting among colleagues): channels where the bot was not
	// asked stay silent, and Sessions keeps no trace of it.
	Chatter bool
	// React marks a turn a channel acknowledges with a reaction instead of
	// a message (thanks in a thread).
	React bool
	// OfferPerson puts "Talk to a person" on the reply.
	OfferPerson bool
	// ConfirmHandoff asks the user to confirm sending Summary to people:
	// renderers put Send and Cancel on the reply.
	ConfirmHandoff bool
	// Handoff is a confirmed hand-off for Sessions to send.
	Handoff *HandoffRequest
	// Words are the localized labels renderers need.
	Words Words
}

// Verdict is a user's judgment of an answer.
type Verdict struct {
	Entry  string
	Solved bool
}

// Link is a page to read.
type Link struct {
	Title string
	URL   string
}

// CauseRef names a cause in play.
type CauseRef struct {
	ID   string
	Text string
}

// RuledOutCause is a cause the conversation's facts exclude.
type RuledOutCause struct {
	ID   string
	Text string
	// Because names the facts that rule it out, localized.
	Because string
}

// Entry is a catalog entry in the reply language.
type Entry struct {
	ID       string
	Title    string
	Platform kb.Platform
	// SourceURL is the Learn article the entry comes from.
	SourceURL string
	// Causes are ordered most likely first for what the conversation knows;
	// causes the user said did not help are left out.
	Causes []Cause
	// Collect says what to gather when the steps did not fix it.
	Collect []string
}

// Cause is one cause with its resolution.
type Cause struct {
	ID string
	// Heading is "Cause" or "Cause 2 of 5", localized.
	Heading string
	Summary string
	Steps   []string
	Notes   []string
}

// Choice is one candidate offered for the user to pick.
type Choice struct {
	// N is the number the user answers with, from 1.
	N        int
	ID       string
	Title    string
	Platform kb.Platform
}

// Code is a recognized error code.
type Code struct {
	// Title is "Error code 0x80180014", localized.
	Title string
	// Hex is the canonical value; empty for symbol-only codes.
	Hex     string
	Symbol  string
	Meaning string
	// Raw is how the user wrote it.
	Raw string
	// Repaired explains a corrected typo ("I read 0x801c003 as 0x801c0003").
	Repaired string
	// NoEntry is set, with its explanation, when the catalog has no
	// troubleshooting entry for the code.
	NoEntry string
}

// Question is a follow-up question.
type Question struct {
	ID      string
	Text    string
	Options []Option
}

// Option is a predefined answer to a question.
type Option struct {
	ID    string
	Label string
}

// Candidate is an entry id with the matcher's confidence.
type Candidate struct {
	ID    string
	Score float64
}

// Words are the localized labels a renderer puts around the content.
type Words struct {
	Steps       string
	Note        string
	Source      string
	FollowUp    string
	Platform    string
	AllCauses   string
	OtherCauses string
	// Related heads other entries offered next to an answer.
	Related string
	// RuledOut heads the causes ruled out; Because introduces why.
	RuledOut, Because string
	// Collect heads what to gather when the steps did not fix it.
	Collect string
	Person  string
	// Send and Cancel label the buttons of a hand-off confirmation.
	Send, Cancel string
	Solved       string
	NotSolved    string
	// MoreCauses says how many more causes a brief answer holds back, and
	// how to see them; empty when it holds back none.
	MoreCauses string
}

// Speaks reports whether a reply is worth posting where the bot was not
// addressed (a channel message, a reply in a thread): a diagnosis, choices
// or a code always; anything that continues the bot's own conversation
// unless it was chatter. Clarify questions and greetings stay unsaid.
func (r Reply) Speaks() bool {
	if r.Chatter {
		return false
	}
	switch r.Kind {
	case KindAnswer, KindChoices, KindCode, KindOutOfScope, KindSummary, KindHandoff:
		return true
	}
	return false
}

// HandoffRequest is what a confirmed hand-off sends to people: the
// conversation as the bot learned it.
type HandoffRequest struct {
	// Ticket is the conversation's open ticket, which the hand-off adds to;
	// empty opens a new one.
	Ticket string
	Lang   kb.Lang
	// Summary is the conversation summed up in Lang.
	Summary string
	// Error is the problem as first pasted.
	Error string
	Codes []string
	// Entry is the entry answered last; Shown all entries shown.
	Entry string
	Shown []string
	// Facts are the checklist answers; Tried the causes that did not help.
	Facts map[string]string
	Tried []string
}
