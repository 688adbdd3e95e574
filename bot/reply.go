// Package bot is enrollbot's conversation engine, free of any chat channel:
// a Turn (what a user said, where, in which language) goes in, a structured
// Reply comes out. Channel adapters (bot/slack, bot/teams) and the command
// line render Replies; nothing here formats a message.
package bot

import "github.com/enrollbot/enrollbot/kb"

// Kind is the outcome a reply reports.
type Kind string

// The reply kinds, one per matcher outcome.
const (
	KindAnswer  Kind = Kind(kb.Answer)
	KindChoices Kind = Kind(kb.Choices)
	KindCode    Kind = Kind(kb.CodeOnly)
	KindClarify Kind = Kind(kb.Clarify)
	// KindLimited asks a user over the rate limit to wait; nothing was
	// matched. Channels where the bot speaks unasked stay silent on it.
	KindLimited Kind = "limited"
)

// Turn is one thing a user said.
type Turn struct {
	// Text is what the user wrote or pasted, markup included.
	Text string
	// Lang is an explicit language choice (a flag, a saved preference);
	// empty when the user made none.
	Lang kb.Lang
	// Locale is the chat client's locale (nl-BE, de-AT); empty when unknown.
	Locale string
	// User identifies the user within the channel.
	User string
	// Conversation identifies the thread or chat the turn belongs to; turns
	// with the same Conversation continue each other. Empty: a one-off.
	Conversation string
}

// Reply is what the engine answers, already in the reply language but not
// yet formatted for any channel.
type Reply struct {
	Kind Kind
	Lang kb.Lang
	// Intro is the lead sentence for choices and clarify replies.
	Intro string
	// Hint tells the user how to answer (choices).
	Hint string
	// Entry is the diagnosis (answer).
	Entry *Entry
	// Choices are the candidates to pick from (choices).
	Choices []Choice
	// Code is the error code the user gave, when one was recognized.
	Code *Code
	// Questions are follow-up questions from the prerequisites checklist.
	Questions []Question
	// Candidates are the matcher's best guesses with their scores, for
	// diagnostics and the JSON contract.
	Candidates []Candidate
	// Notices are remarks about the input (truncated, unreadable bytes).
	Notices []string
	// Words are the localized labels renderers need.
	Words Words
}

// Entry is a catalog entry in the reply language.
type Entry struct {
	ID       string
	Title    string
	Platform kb.Platform
	// SourceURL is the Learn article the entry comes from.
	SourceURL string
	// Causes are ordered most likely first for what the user wrote.
	Causes []Cause
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
	Steps    string
	Note     string
	Source   string
	FollowUp string
	Platform string
}
