package teamsbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/plain"
	"github.com/enrollbot/enrollbot/kb"
)

// The Adaptive Card the bot sends. Teams renders schema 1.5 and below; the
// cards use nothing newer than 1.2 (RichTextBlock, ActionSet, action
// styles), and declare that, so that every Teams client renders them.
const (
	// CardContentType is the attachment content type of an Adaptive Card.
	CardContentType = "application/vnd.microsoft.card.adaptive"
	// CardSchema is the Adaptive Card JSON schema the cards name.
	CardSchema = "http://adaptivecards.io/schemas/adaptive-card.json"
	// CardVersion is the schema version the cards declare.
	CardVersion = "1.2"
	// MaxCardBytes bounds a card's JSON: Teams refuses messages over about
	// 28 KB, and the activity around the card needs some of that.
	MaxCardBytes = 24 << 10
	// MaxActions is the most actions one actions array or ActionSet holds;
	// Teams shows no more than six.
	MaxActions = 6
	// maxButtonTitle bounds a button's title, in runes; Teams cuts long
	// titles anyway.
	maxButtonTitle = 60
	// maxFallback bounds the card's fallback text and maxSummary the
	// notification text, in bytes.
	maxFallback = 4000
	maxSummary  = 200
	// answerButton is the title of the button that sends the option picked
	// in a question's choice set: short, and the same word in every
	// catalog language.
	answerButton = "OK"
)

// card is an Adaptive Card.
type card struct {
	Schema       string    `json:"$schema,omitempty"`
	Type         string    `json:"type"`
	Version      string    `json:"version,omitempty"`
	FallbackText string    `json:"fallbackText,omitempty"`
	Lang         string    `json:"lang,omitempty"`
	Body         []element `json:"body"`
	Actions      []action  `json:"actions,omitempty"`
	MSTeams      *msteams  `json:"msteams,omitempty"`
}

// msteams is Teams' extension of a card.
type msteams struct {
	Width string `json:"width"`
}

// element is a body element: RichTextBlock, TextBlock, Container,
// ColumnSet, Column, ActionSet or Input.ChoiceSet.
type element struct {
	Type      string `json:"type"`
	ID        string `json:"id,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
	// Text and the styles below are a TextBlock's.
	Text     string `json:"text,omitempty"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	// Wrap is a TextBlock's or a choice set's.
	Wrap    bool      `json:"wrap,omitempty"`
	Inlines []inline  `json:"inlines,omitempty"`
	Items   []element `json:"items,omitempty"`
	// Style is a Container's or a choice set's.
	Style   string    `json:"style,omitempty"`
	Actions []action  `json:"actions,omitempty"`
	Columns []element `json:"columns,omitempty"`
	// Width and VerticalContentAlignment are a Column's.
	Width                    string `json:"width,omitempty"`
	VerticalContentAlignment string `json:"verticalContentAlignment,omitempty"`
	// Choices are an Input.ChoiceSet's.
	Choices []choice `json:"choices,omitempty"`
}

// choice is one choice of an Input.ChoiceSet.
type choice struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// inline is a TextRun: text shown as it is, without Markdown.
type inline struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
	FontType string `json:"fontType,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Italic   bool   `json:"italic,omitempty"`
}

// action is an Action.Submit, Action.OpenUrl or Action.ShowCard.
type action struct {
	Type  string      `json:"type"`
	Title string      `json:"title"`
	Style string      `json:"style,omitempty"`
	URL   string      `json:"url,omitempty"`
	Data  *submitData `json:"data,omitempty"`
	Card  *card       `json:"card,omitempty"`
}

// submitData is what an Action.Submit button sends back; Teams delivers it
// as the value of a message activity, with the values of the card's inputs
// beside it. It is an engine input: the action (a bot.Action), and the
// entry, question, option or language it needs. Lang is the card's
// language, or for ActLang the language chosen.
type submitData struct {
	// Action's key tells the bot's data apart from anything else a value
	// may hold.
	Action   string  `json:"enrollbot"`
	Entry    string  `json:"e,omitempty"`
	Question string  `json:"q,omitempty"`
	Option   string  `json:"o,omitempty"`
	Lang     kb.Lang `json:"l,omitempty"`
	// Ticket and Conv are the experts' card's: the ticket and the user's
	// conversation.
	Ticket string `json:"tk,omitempty"`
	Conv   string `json:"cv,omitempty"`
}

// optionInput is the id of the choice set that answers question: Teams
// sends the option picked in it under this key.
func optionInput(question string) string { return "o:" + question }

// view is how a reply is shown, beyond what the reply holds.
type view struct {
	// expand shows every cause of an answer on the card itself, as far as
	// the size limit allows: the user asked for all of them.
	expand bool
}

// renderer turns engine replies into Adaptive Cards.
type renderer struct {
	w *bot.Wording
}

func newCard(lang kb.Lang, fallback string) card {
	if strings.TrimSpace(fallback) == "" {
		fallback = "…"
	}
	return card{Schema: CardSchema, Type: "AdaptiveCard", Version: CardVersion, Lang: string(lang),
		FallbackText: cut(fallback, maxFallback), MSTeams: &msteams{Width: "Full"}}
}

// markup matches the catalog's **bold** and `code`.
var markup = regexp.MustCompile("\\*\\*([^*\\n]+?)\\*\\*|`([^`\\n]+)`")

// runs turns text with the catalog's **bold** and `code` into TextRuns:
// bold ones, and code in a monospace font without its backticks;
// everything else shows as written, so no text the bot quotes is read as
// Markdown.
func runs(text string, style inline) []inline {
	var out []inline
	add := func(s string, strong, code bool) {
		if s == "" {
			return
		}
		r := style
		r.Type, r.Text = "TextRun", s
		if strong {
			r.Weight = "Bolder"
		}
		if code {
			r.FontType = "Monospace"
		}
		out = append(out, r)
	}
	last := 0
	for _, m := range markup.FindAllStringSubmatchIndex(text, -1) {
		add(text[last:m[0]], style.Weight == "Bolder", false)
		if m[2] >= 0 {
			add(text[m[2]:m[3]], true, false)
		} else {
			add(text[m[4]:m[5]], style.Weight == "Bolder", true)
		}
		last = m[1]
	}
	add(text[last:], style.Weight == "Bolder", false)
	return out
}

// rich is a RichTextBlock of inlines.
func rich(inlines ...inline) element {
	return element{Type: "RichTextBlock", Inlines: inlines}
}

// para is a RichTextBlock of text with the catalog's **bold** and `code`.
func para(text string, style inline) element {
	return rich(runs(text, style)...)
}

// label is a bold lead-in ("Steps", "Note: ").
func label(text string) inline {
	return inline{Type: "TextRun", Text: text, Weight: "Bolder"}
}

var (
	plainStyle  = inline{}
	subtleStyle = inline{IsSubtle: true, Size: "Small"}
	boldStyle   = inline{Weight: "Bolder"}
)

// webURL matches a URL in the catalog's or the wording's text; the
// sentence's punctuation after it is not part of it.
var webURL = regexp.MustCompile(`https?://[^\s()<>\[\]"'` + "`" + `]+`)

// textElement renders the catalog's or the bot's own text after lead: as
// literal TextRuns (para), unless it names a web address, which only a
// TextBlock's Markdown makes a link. Then the text becomes Markdown:
// **bold** stays, code loses its backticks, each https URL becomes
// [host/path](URL). Text whose other characters Markdown could misread
// (underscores, brackets, single asterisks, backslashes…) stays literal
// runs: Teams escapes them differently on every client. Never use it for
// what a user wrote.
func textElement(lead []inline, text string, style inline) element {
	if webURL.MatchString(text) {
		if md, ok := markdown(lead, text); ok {
			return element{Type: "TextBlock", Text: md, Wrap: true, Size: style.Size, Weight: style.Weight,
				Color: style.Color, IsSubtle: style.IsSubtle}
		}
	}
	return rich(append(slices.Clone(lead), runs(text, style)...)...)
}

// mdUnsafe matches what Teams' Markdown may read as markup in text meant
// as plain, and mdBlock a start it may read as a list, quote or heading.
var (
	mdUnsafe = regexp.MustCompile(`[*_\[\]\\<~` + "`" + `]`)
	mdBlock  = regexp.MustCompile(`^\s*(?:[-+>#]|\d+[.)])(?:\s|$)`)
)

// markdown renders lead and text as Teams Markdown; ok is false when some
// of it cannot be said safely.
func markdown(lead []inline, text string) (string, bool) {
	var b strings.Builder
	safe := func(s string) bool { return !mdUnsafe.MatchString(s) }
	for _, in := range lead {
		t := strings.TrimRight(in.Text, " ")
		if !safe(t) || strings.TrimSpace(t) == "" {
			return "", false
		}
		if in.Weight == "Bolder" {
			t = "**" + t + "**"
		}
		b.WriteString(t + in.Text[len(strings.TrimRight(in.Text, " ")):])
	}
	plainText := func(s string) bool {
		last := 0
		for _, m := range markup.FindAllStringSubmatchIndex(s, -1) {
			if !safe(s[last:m[0]]) {
				return false
			}
			b.WriteString(s[last:m[0]])
			if m[2] >= 0 {
				inner := s[m[2]:m[3]]
				if !safe(inner) || strings.TrimSpace(inner) != inner {
					return false
				}
				b.WriteString("**" + inner + "**")
			} else {
				inner := s[m[4]:m[5]]
				if !safe(inner) {
					return false
				}
				b.WriteString(inner)
			}
			last = m[1]
		}
		if !safe(s[last:]) {
			return false
		}
		b.WriteString(s[last:])
		return true
	}
	last := 0
	for _, m := range webURL.FindAllStringIndex(text, -1) {
		raw := strings.TrimRight(text[m[0]:m[1]], ".,;:!?")
		if !plainText(text[last:m[0]]) {
			return "", false
		}
		u := sourceURL(raw)
		title := strings.TrimSuffix(strings.TrimPrefix(u, "https://"), "/")
		if u == "" || !safe(title) || strings.ContainsAny(u, "()") {
			return "", false
		}
		b.WriteString("[" + title + "](" + u + ")")
		last = m[0] + len(raw)
	}
	if !plainText(text[last:]) || mdBlock.MatchString(b.String()) {
		return "", false
	}
	return b.String(), true
}

// paras renders text of several lines (the help, a hand-off text), a block
// a line.
func paras(text string, style inline) []element {
	var out []element
	for line := range strings.Lines(text) {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		el := textElement(nil, line, style)
		if len(out) > 0 {
			el.Spacing = "Small"
		}
		out = append(out, el)
	}
	return out
}

func submit(title string, data submitData) action {
	return action{Type: "Action.Submit", Title: cutRunes(title, maxButtonTitle), Data: &data}
}

// attachment wraps a card for an activity.
func attachment(c card) schema.Attachment {
	return schema.Attachment{ContentType: CardContentType, Content: c}
}

// or returns s, else the wording id in lang: a reply's Words are filled by
// the engine, but a card is never to show an empty button.
func (rd *renderer) or(s string, lang kb.Lang, id string) string {
	if s != "" {
		return s
	}
	return rd.w.Get(lang, id, nil)
}

// reply renders an engine reply, of any kind.
func (rd *renderer) reply(r bot.Reply, v view) card {
	lang := r.Lang
	if !lang.Valid() {
		lang = kb.English
	}
	if r.Kind == bot.KindAnswer && r.Entry == nil {
		// Not something the engine makes, and plain.Render would panic on it.
		r.Kind = bot.KindClarify
	}
	c := newCard(lang, strings.TrimSpace(plain.Render(r)))
	for _, n := range r.Notices {
		c.Body = append(c.Body, para(n, subtleStyle))
	}
	switch {
	case r.Kind == bot.KindAnswer:
		return rd.answer(c, r, lang, v)
	case r.Kind == bot.KindChoices:
		rd.choices(&c, r, lang)
	case r.Kind == bot.KindCode && r.Code != nil:
		c.Body = append(c.Body, rich(inline{Type: "TextRun", Text: r.Code.Title, Size: "Large", Weight: "Bolder"}))
		c.Body = append(c.Body, codeElements(r.Code, false)...)
		c.Body = append(c.Body, rd.questions(r, lang)...)
	default:
		// Clarify, smalltalk, out of scope, summary, hand-off, limited.
		c.Body = append(c.Body, paras(r.Intro, plainStyle)...)
		if r.Link != nil {
			c.Body = append(c.Body, linkElement(*r.Link))
		}
		if r.Summary != "" {
			c.Body = append(c.Body, summaryBlock(r.Summary))
		}
		c.Body = append(c.Body, rd.questions(r, lang)...)
	}
	if r.OfferPerson {
		c.Actions = append(c.Actions, rd.person(r, lang))
	}
	if r.ConfirmHandoff {
		send := submit(rd.or(r.Words.Send, lang, "ActionSend"), submitData{Action: string(bot.ActHandoffSend), Lang: lang})
		send.Style = "positive"
		c.Actions = append(c.Actions, send,
			submit(rd.or(r.Words.Cancel, lang, "ActionCancel"), submitData{Action: string(bot.ActHandoffCancel), Lang: lang}))
	}
	if len(c.Body) == 0 {
		// A reply with nothing to show still needs a body.
		c.Body = append(c.Body, para(c.FallbackText, plainStyle))
	}
	return c
}

// person is the "Talk to a person" button.
func (rd *renderer) person(r bot.Reply, lang kb.Lang) action {
	return submit(rd.or(r.Words.Person, lang, "ActionPerson"), submitData{Action: string(bot.ActPerson), Lang: lang})
}

// summary is the notification text of a reply.
func summary(r bot.Reply) string {
	switch {
	case r.Kind == bot.KindAnswer && r.Entry != nil:
		return cut(r.Entry.Title, maxSummary)
	case r.Code != nil && r.Kind == bot.KindCode:
		return cut(r.Code.Title, maxSummary)
	}
	return cut(strings.Join(strings.Fields(r.Intro), " "), maxSummary)
}

// linkElement is a link to l: a TextBlock's Markdown link, the only kind
// every Teams client opens; the title alone when the URL is not https.
func linkElement(l bot.Link) element {
	title := strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if strings.ContainsRune("[]*_\\<>`~#", r) {
			return ' '
		}
		return r
	}, l.Title)), " ")
	u := sourceURL(l.URL)
	if title == "" {
		title = strings.TrimPrefix(u, "https://")
	}
	if u == "" {
		return para(l.Title, plainStyle)
	}
	u = strings.NewReplacer("(", "%28", ")", "%29").Replace(u)
	return element{Type: "TextBlock", Text: "[" + title + "](" + u + ")", Wrap: true, Spacing: "Medium"}
}

// summaryBlock shows a conversation's summary as it is, a line a run in a
// monospace font, on a shaded block: the text to copy into a ticket.
func summaryBlock(s string) element {
	box := element{Type: "Container", Style: "emphasis", Spacing: "Medium"}
	for line := range strings.Lines(s) {
		if line = strings.TrimRight(line, " \r\n"); strings.TrimSpace(line) == "" {
			continue
		}
		el := rich(inline{Type: "TextRun", Text: line, FontType: "Monospace", Size: "Small"})
		if len(box.Items) > 0 {
			el.Spacing = "None"
		}
		box.Items = append(box.Items, el)
	}
	if len(box.Items) == 0 {
		box.Items = append(box.Items, rich(inline{Type: "TextRun", Text: "…"}))
	}
	return box
}

func codeElements(c *bot.Code, withTitle bool) []element {
	var out []element
	var head []inline
	if withTitle {
		head = append(head, label(c.Title))
	}
	if c.Symbol != "" && c.Symbol != c.Hex && !strings.Contains(c.Title, c.Symbol) {
		if len(head) > 0 {
			head = append(head, inline{Type: "TextRun", Text: " · "})
		}
		head = append(head, inline{Type: "TextRun", Text: c.Symbol, IsSubtle: true})
	}
	if len(head) > 0 {
		out = append(out, rich(head...))
	}
	if c.NoEntry != "" {
		out = append(out, textElement(nil, c.NoEntry, plainStyle))
	}
	if c.Meaning != "" {
		out = append(out, textElement(nil, c.Meaning, plainStyle))
	}
	if c.Repaired != "" {
		// It quotes what the user wrote: literal runs only.
		out = append(out, rich(inline{Type: "TextRun", Text: c.Repaired, Italic: true, IsSubtle: true}))
	}
	return out
}

func causeElements(c bot.Cause, w bot.Words, separator bool) element {
	box := element{Type: "Container", Separator: separator, Spacing: "Medium"}
	box.Items = append(box.Items, textElement([]inline{label(c.Heading + ": ")}, c.Summary, plainStyle))
	if len(c.Steps) > 0 {
		steps := rich(label(w.Steps))
		steps.Spacing = "Small"
		box.Items = append(box.Items, steps)
		for i, s := range c.Steps {
			step := textElement([]inline{label(strconv.Itoa(i+1) + ". ")}, s, plainStyle)
			step.Spacing = "Small"
			box.Items = append(box.Items, step)
		}
	}
	for _, n := range c.Notes {
		note := textElement([]inline{{Type: "TextRun", Text: w.Note + ": ", Weight: "Bolder", IsSubtle: true}}, n, inline{IsSubtle: true})
		note.Spacing = "Small"
		box.Items = append(box.Items, note)
	}
	return box
}

// answer renders a diagnosis: what changed (Intro), the code, the entry,
// its first cause and the feedback buttons, the follow-up questions and
// related entries; then the other causes. A brief answer (a follow-up)
// leaves them one "All causes" tap away; a full one puts them behind an
// "Other causes" button that opens them on the card, or with v.expand
// shows them all at once. Within Teams' size limit, as many as fit, and a
// line says where to find the rest.
func (rd *renderer) answer(base card, r bot.Reply, lang kb.Lang, v view) card {
	e := r.Entry
	causes := e.Causes
	build := func(inBody, inShowCard int) card {
		c := base
		c.Body = slices.Clone(base.Body)
		c.Actions = slices.Clone(base.Actions)
		if r.Intro != "" {
			c.Body = append(c.Body, paras(r.Intro, plainStyle)...)
		}
		if r.Code != nil && !r.Brief {
			c.Body = append(c.Body, codeElements(r.Code, true)...)
		}
		c.Body = append(c.Body,
			rich(inline{Type: "TextRun", Text: e.Title, Size: "Large", Weight: "Bolder"}),
			rich(inline{Type: "TextRun", Text: rd.or(r.Words.Platform, lang, "Platform") + ": " + e.Platform.Name(), IsSubtle: true}))
		for i, cause := range causes[:inBody] {
			c.Body = append(c.Body, causeElements(cause, r.Words, i > 0))
		}
		rest := causes[inBody:]
		switch {
		case r.Brief && len(rest) > 0:
			c.Body = append(c.Body, para(rd.w.Get(lang, "MoreCauses", map[string]any{"N": len(rest)}), subtleStyle))
		case inShowCard < len(rest):
			c.Body = append(c.Body, para(rd.w.Get(lang, "TeamsMoreCauses", map[string]any{"N": len(rest) - inShowCard}), subtleStyle))
		}
		if !r.Brief && len(e.Collect) > 0 {
			// What to gather when the steps did not help.
			c.Body = append(c.Body, para(rd.or(r.Words.Collect, lang, "CollectHeading"), boldStyle))
			for _, item := range e.Collect {
				c.Body = append(c.Body, textElement(nil, "- "+item, subtleStyle))
			}
		}
		if !r.Brief && len(r.RuledOut) > 0 {
			// What the facts ruled out, and why.
			lines := []string{rd.or(r.Words.RuledOut, lang, "SummaryRuledOut") + ":"}
			for _, ro := range r.RuledOut {
				lines = append(lines, "- "+ro.Text+" ("+rd.or(r.Words.Because, lang, "RuledOutBecause")+" "+ro.Because+")")
			}
			c.Body = append(c.Body, para(strings.Join(lines, "\n"), subtleStyle))
		}
		verdict := element{Type: "ActionSet", Spacing: "Medium", Actions: []action{
			submit(rd.or(r.Words.Solved, lang, "ActionSolved"), submitData{Action: string(bot.ActSolved), Entry: e.ID, Lang: lang}),
			submit(rd.or(r.Words.NotSolved, lang, "ActionNotSolved"), submitData{Action: string(bot.ActNotSolved), Entry: e.ID, Lang: lang}),
		}}
		verdict.Actions[0].Style = "positive"
		if r.OfferPerson {
			verdict.Actions = append(verdict.Actions, rd.person(r, lang))
		}
		c.Body = append(c.Body, verdict)
		c.Body = append(c.Body, rd.questions(r, lang)...)
		c.Body = append(c.Body, rd.related(r, lang)...)

		switch {
		case r.Brief && len(rest) > 0:
			c.Actions = append(c.Actions, submit(rd.or(r.Words.AllCauses, lang, "ActionAllCauses")+" ("+strconv.Itoa(len(causes))+")",
				submitData{Action: string(bot.ActAllCauses), Lang: lang}))
		case inShowCard > 0:
			more := &card{Type: "AdaptiveCard"}
			for i, cause := range rest[:inShowCard] {
				more.Body = append(more.Body, causeElements(cause, r.Words, i > 0))
			}
			c.Actions = append(c.Actions, action{Type: "Action.ShowCard", Card: more,
				Title: cutRunes(rd.w.Get(lang, "TeamsOtherCauses", map[string]any{"N": inShowCard}), maxButtonTitle)})
		}
		if u := sourceURL(e.SourceURL); u != "" {
			c.Actions = append(c.Actions, action{Type: "Action.OpenUrl", Title: rd.or(r.Words.Source, lang, "Source"), URL: u})
		}
		return c
	}

	first := min(1, len(causes))
	if r.Brief {
		return build(first, 0)
	}
	if v.expand {
		for in := len(causes); in > first; in-- {
			if c := build(in, len(causes)-in); cardSize(c) <= MaxCardBytes {
				return c
			}
		}
	}
	var c card
	for k := len(causes) - first; k >= 0; k-- {
		if c = build(first, k); cardSize(c) <= MaxCardBytes {
			break
		}
	}
	return c
}

// related lists the other entries worth a look next to an answer, each
// picked with a button of its number.
func (rd *renderer) related(r bot.Reply, lang kb.Lang) []element {
	if len(r.Choices) == 0 {
		return nil
	}
	head := para(rd.or(r.Words.Related, lang, "RelatedEntries"), boldStyle)
	head.Separator, head.Spacing = true, "Medium"
	return append([]element{head}, rd.choiceList(r.Choices, lang)...)
}

// choiceList lists choices by number, their titles in full, with a pick
// button a number: short buttons that no width cuts.
func (rd *renderer) choiceList(choices []bot.Choice, lang kb.Lang) []element {
	var out []element
	var buttons []action
	for i, ch := range choices {
		n := ch.N
		if n <= 0 {
			n = i + 1
		}
		line := rich(inline{Type: "TextRun", Text: strconv.Itoa(n) + ". ", Weight: "Bolder"},
			inline{Type: "TextRun", Text: ch.Title + " (" + ch.Platform.Name() + ")"})
		line.Spacing = "Small"
		out = append(out, line)
		if len(buttons) < MaxActions {
			buttons = append(buttons, submit(strconv.Itoa(n), submitData{Action: string(bot.ActPick), Entry: ch.ID, Lang: lang}))
		}
	}
	if len(buttons) > 0 {
		out = append(out, element{Type: "ActionSet", Actions: buttons})
	}
	return out
}

func (rd *renderer) choices(c *card, r bot.Reply, lang kb.Lang) {
	if r.Code != nil {
		c.Body = append(c.Body, codeElements(r.Code, true)...)
	}
	if r.Intro != "" {
		c.Body = append(c.Body, textElement(nil, r.Intro, boldStyle))
	}
	c.Body = append(c.Body, rd.choiceList(r.Choices, lang)...)
	if r.Hint != "" {
		c.Body = append(c.Body, para(r.Hint, subtleStyle))
	}
	c.Body = append(c.Body, rd.questions(r, lang)...)
}

// questions renders the follow-up questions, each with its options in a
// compact choice set (a drop-down, where no label is cut) and one button
// that sends the option picked.
func (rd *renderer) questions(r bot.Reply, lang kb.Lang) []element {
	if len(r.Questions) == 0 {
		return nil
	}
	var out []element
	if r.Kind != bot.KindClarify {
		h := para(rd.or(r.Words.FollowUp, lang, "FollowUp"), boldStyle)
		h.Separator, h.Spacing = true, "Medium"
		out = append(out, h)
	}
	for _, q := range r.Questions {
		out = append(out, textElement(nil, q.Text, plainStyle))
		if len(q.Options) == 0 {
			continue
		}
		set := element{Type: "Input.ChoiceSet", ID: optionInput(q.ID), Style: "compact", Wrap: true}
		for _, o := range q.Options {
			set.Choices = append(set.Choices, choice{Title: o.Label, Value: o.ID})
		}
		send := element{Type: "ActionSet", Actions: []action{
			submit(answerButton, submitData{Action: string(bot.ActChoose), Question: q.ID, Lang: lang})}}
		out = append(out, element{Type: "ColumnSet", Spacing: "Small", Columns: []element{
			{Type: "Column", Width: "stretch", VerticalContentAlignment: "Center", Items: []element{set}},
			{Type: "Column", Width: "auto", VerticalContentAlignment: "Center", Items: []element{send}},
		}})
	}
	return out
}

// welcome is the card that greets a new user or team, with the help.
func (rd *renderer) welcome(lang kb.Lang) card {
	title := rd.w.Get(lang, "TeamsWelcomeTitle", nil)
	text := rd.w.Get(lang, "TeamsWelcome", nil)
	help := rd.w.Get(lang, "TeamsHelp", nil)
	c := newCard(lang, title+"\n"+text+"\n"+help)
	c.Body = append(c.Body,
		rich(inline{Type: "TextRun", Text: title, Size: "Large", Weight: "Bolder"}),
		para(text, plainStyle))
	for line := range strings.Lines(help) {
		if line = strings.TrimSpace(line); line != "" {
			el := para("• "+line, plainStyle)
			el.Spacing = "Small"
			c.Body = append(c.Body, el)
		}
	}
	return c
}

// note is a card of one of the bot's own sentences.
func (rd *renderer) note(lang kb.Lang, text string) card {
	c := newCard(lang, text)
	c.Body = append(c.Body, paras(text, plainStyle)...)
	if len(c.Body) == 0 {
		c.Body = append(c.Body, para(c.FallbackText, plainStyle))
	}
	return c
}

// sourceURL returns raw when it is an https URL, else nothing.
func sourceURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return ""
	}
	return u.String()
}

// cardJSON encodes a card as Teams receives it.
func cardJSON(c card) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		// A card holds only strings, numbers, bools and slices of them.
		panic(fmt.Sprintf("teams: encode card: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func cardSize(c card) int { return len(cardJSON(c)) }

// cut shortens s to at most n bytes at a rune boundary, preferably at a
// space, and marks the cut with an ellipsis.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	t := cutBytes(s, n-len(ellipsis))
	if sp := strings.LastIndexAny(t, " \n"); sp > len(t)*2/3 {
		t = t[:sp]
	}
	return strings.TrimRight(t, " \n") + ellipsis
}

// cutBytes shortens s to at most n bytes at a rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := max(n, 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// cutRunes shortens s to at most n runes, marking the cut with an ellipsis.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}
