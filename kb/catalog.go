// Package kb is enrollbot's domain: the localized resolution catalog of
// Intune enrollment errors, the prerequisites checklist, the error-code
// reference table, and the matcher that maps what a user pasted onto them.
//
// It imports no chat SDK and formats no replies: it answers "which entries,
// how sure, in which language" and leaves the wording to the bot package.
package kb

import (
	"regexp"
	"slices"
)

// Lang is a reply language the catalog is written in.
type Lang string

// The four catalog languages. Every entry carries text in each of them.
const (
	English Lang = "en"
	Dutch   Lang = "nl"
	Swedish Lang = "sv"
	German  Lang = "de"
)

// Langs lists the catalog languages in a fixed order; English first because
// it is the fallback.
var Langs = []Lang{English, Dutch, Swedish, German}

// Valid reports whether l is one of the catalog languages.
func (l Lang) Valid() bool { return slices.Contains(Langs, l) }

// Text is one string per language.
type Text map[Lang]string

// In returns the text in lang, falling back to English so that a reply is
// never empty. Validation guarantees the built-in catalog needs no fallback.
func (t Text) In(lang Lang) string {
	if s, ok := t[lang]; ok && s != "" {
		return s
	}
	return t[English]
}

// List is a list of strings per language (steps, notes, device messages).
type List map[Lang][]string

// In returns the list in lang, falling back to English.
func (l List) In(lang Lang) []string {
	if s, ok := l[lang]; ok && len(s) > 0 {
		return s
	}
	return l[English]
}

// Platform is the operating system an entry is about.
type Platform string

// Platforms the catalog covers.
const (
	IOS     Platform = "ios"
	Windows Platform = "windows"
)

// Name is how the platform is written, the same in every language.
func (p Platform) Name() string {
	switch p {
	case IOS:
		return "iOS/iPadOS"
	case Windows:
		return "Windows"
	}
	return string(p)
}

// Entry is one troubleshooting entry: an error a device or portal shows,
// with its causes and resolution steps in every catalog language.
type Entry struct {
	// ID is the Learn article anchor, identical in every language.
	ID string `toml:"id"`
	// Aliases are older anchors for the same error (the German seed's dep-…).
	Aliases  []string `toml:"aliases"`
	Platform Platform `toml:"platform"`
	// Codes are error codes and symbols that identify this entry, as written
	// by Microsoft (0x80180014, NoEnrollmentPolicy, OOBEIDPS…).
	Codes []string `toml:"codes"`
	// Questions are checklist question ids worth asking for this entry.
	Questions []string `toml:"questions"`
	Source    Source   `toml:"source"`
	Title     Text     `toml:"title"`
	// Messages are the exact strings a device or portal shows, per language.
	Messages List `toml:"messages"`
	// Symptoms are short descriptions in users' own words, to match
	// descriptions that quote no message ("ADE enrollment stuck at login").
	Symptoms List `toml:"symptoms"`
	// Collect says what to gather when the steps did not fix it: the
	// diagnostics that settle the case, for the admin and for whoever
	// helps next (shown after the steps and in the hand-off summary).
	Collect List `toml:"collect"`
	// Signals are evidence beyond the codes that points to this entry, or
	// to one of its causes: sub-codes and failure reasons in error bodies,
	// AADSTS codes, event ids in a named log.
	Signals []Signal `toml:"signals"`
	Causes  []Cause  `toml:"causes"`
	// Keeps lists retired names this entry keeps on purpose (the current
	// article still uses them); a comment in the file says why.
	Keeps []string `toml:"keeps"`

	// file is where the entry was loaded from, for error messages.
	file string
}

// File returns the catalog file the entry was loaded from.
func (e *Entry) File() string { return e.file }

// Signal is evidence that points to an entry, or to one of its causes,
// beyond its codes. A token names the failure ("MsaTicketTpmValidationFailed"
// in an error body, "AADSTS50155"): it weighs above any code, which only
// says which step failed. An event id says which log spoke ("Event 76" of
// Auto MDM Enroll): it weighs above a code several entries share, never
// against a code of the query that points elsewhere.
type Signal struct {
	// Token is one word as an error body or log writes it; matched whole,
	// case ignored.
	Token string `toml:"token"`
	// Event is an event id, read after "event", "event id", "Ereignis",
	// "gebeurtenis" or "händelse" in the text.
	Event int `toml:"event"`
	// Log names the event's log (its channel), for whoever reads the entry;
	// required with Event.
	Log string `toml:"log"`
	// Cause is the id of the cause the signal names; empty: the entry.
	Cause string `toml:"cause"`
}

// Source names the Learn article an entry comes from.
type Source struct {
	Article string `toml:"article"`
	URL     string `toml:"url"`
}

// Cause is one reason an error happens, with the steps that resolve it.
type Cause struct {
	ID      string `toml:"id"`
	Summary Text   `toml:"summary"`
	Steps   List   `toml:"steps"`
	Notes   List   `toml:"notes"`
	// RuledOutBy names facts that exclude this cause: question id → the
	// option ids that do ("license" = ["yes"] for a missing licence).
	RuledOutBy Condition `toml:"ruled_out_by"`
	// LikelyWhen names facts that make this cause more likely, one step per
	// question that matches (a tenant-wide cause when all users fail).
	LikelyWhen Condition `toml:"likely_when"`
	// UnlikelyWhen names facts that make it less likely (a per-device
	// cause when every device fails).
	UnlikelyWhen Condition `toml:"unlikely_when"`
}

// Condition maps a checklist question (or a fact the checklist only
// listens for) to the option ids that meet it.
type Condition map[string][]string

// Question is one prerequisites-checklist question.
type Question struct {
	ID      string   `toml:"id"`
	Text    Text     `toml:"text"`
	Options []Option `toml:"options"`
	// Platforms limits the question to some platforms' checklists; empty
	// means every platform.
	Platforms []Platform `toml:"platforms"`
	// Key marks the questions asked first when nothing matched.
	Key bool `toml:"key"`
	// Anywhere marks questions whose option words are specific enough to
	// count in any turn ("iPad", "Windows 11"), not only as a direct answer.
	Anywhere bool `toml:"anywhere"`
	// Short names the question in a fact ("Intune licence: No"), for
	// questions whose option labels say little alone (Yes, No, Intune).
	Short Text `toml:"short"`
	// Listen marks a fact the checklist never asks about but recognises
	// when a user says it (a Windows edition, a virtual machine): causes'
	// rules may name it.
	Listen bool `toml:"listen"`
}

// Option is a predefined answer to a checklist question.
type Option struct {
	ID    string `toml:"id"`
	Label Text   `toml:"label"`
	// Words are extra spellings users type for this option ("ipad", "win11").
	Words []string `toml:"words"`
	// Platforms limits the option to some platforms (Apple ADE is iOS only);
	// empty means every platform.
	Platforms []Platform `toml:"platforms"`
	// Phrases are how users say this in free text, in any turn and any
	// language ("only her", "since yesterday", "alle Benutzer").
	Phrases []string `toml:"phrases"`
	// Patterns are regular expressions for what words cannot say: a UPN
	// ending in .local (user@contoso.local).
	Patterns []string `toml:"patterns"`

	wordTokens, phrases [][]string
	patterns            []*regexp.Regexp
}

// For reports whether the option applies to platform p; every option
// applies when p is unknown.
func (o *Option) For(p Platform) bool {
	return p == "" || len(o.Platforms) == 0 || slices.Contains(o.Platforms, p)
}

// Code is one row of the error-code reference table.
type Code struct {
	// Hex is the canonical form, 0x followed by eight lower-case hex digits;
	// empty for symbol-only codes such as OOBEIDPS.
	Hex string `toml:"hex"`
	// Symbol is the constant name (MENROLL_E_DEVICENOTSUPPORTED) or the
	// symbolic error the service returns (NoEnrollmentPolicy).
	Symbol string `toml:"symbol"`
	// Aliases are other names for the same value.
	Aliases []string `toml:"aliases"`
	Meaning Text     `toml:"meaning"`
	// Entries link the code to troubleshooting entries, most specific first.
	Entries []string `toml:"entries"`
	// Note records where sources disagree about this code.
	Note string `toml:"note"`
}

// Catalog is the loaded, validated knowledge base.
type Catalog struct {
	Entries   []*Entry
	Questions []*Question
	Codes     []*Code
	// Talk is the conversation vocabulary (conversation.toml).
	Talk *Talk
	// Topics are what the catalog does not cover (scope.toml).
	Topics []*Topic
	// Glossary is the catalog's terms and the retired names (glossary.toml).
	Glossary *Glossary

	// prebuilt is the matching index built ahead of time for the built-in
	// catalog (LoadBuiltin); nil for any other. builtFor holds the entries
	// and questions it was built for: a matcher takes the prebuilt index
	// only while the catalog still has exactly those (prebuiltIndex). Text
	// edited inside an entry after load is not noticed.
	prebuilt *prebuilt
	builtFor struct {
		entries   []*Entry
		questions []*Question
	}

	byID       map[string]*Entry
	questionBy map[string]*Question
	codeByHex  map[uint32]*Code
	codeBySym  map[string]*Code
}

// Entry returns the entry with the given id or alias.
func (c *Catalog) Entry(id string) (*Entry, bool) {
	e, ok := c.byID[id]
	return e, ok
}

// Question returns the checklist question with the given id.
func (c *Catalog) Question(id string) (*Question, bool) {
	q, ok := c.questionBy[id]
	return q, ok
}

// Checklist returns the prerequisites questions that apply to platform, in
// catalog order. An empty platform returns the questions every platform shares.
func (c *Catalog) Checklist(p Platform) []*Question {
	var out []*Question
	for _, q := range c.Questions {
		if q.Listen {
			continue
		}
		if len(q.Platforms) == 0 || (p != "" && slices.Contains(q.Platforms, p)) {
			out = append(out, q)
		}
	}
	return out
}

// KeyQuestions returns the questions to ask when nothing matched.
func (c *Catalog) KeyQuestions() []*Question {
	var out []*Question
	for _, q := range c.Questions {
		if q.Key {
			out = append(out, q)
		}
	}
	return out
}
