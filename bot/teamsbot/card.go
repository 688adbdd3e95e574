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
	// maxOptionButtons is the most answers a question gets as buttons;
	// questions with more list their answers as text.
	maxOptionButtons = 5
	// maxButtonTitle bounds a button's title, in runes; Teams cuts long
	// titles anyway.
	maxButtonTitle = 60
	// maxFallback bounds the card's fallback text and maxSummary the
	// notification text, in bytes.
	maxFallback = 4000
	maxSummary  = 200
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

// element is a body element: RichTextBlock, Container or ActionSet.
type element struct {
	Type      string    `json:"type"`
	Spacing   string    `json:"spacing,omitempty"`
	Separator bool      `json:"separator,omitempty"`
	Inlines   []inline  `json:"inlines,omitempty"`
	Items     []element `json:"items,omitempty"`
	Style     string    `json:"style,omitempty"`
	Actions   []action  `json:"actions,omitempty"`
}

// inline is a TextRun: text shown as it is, without Markdown.
type inline struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Size     string `json:"size,omitempty"`
	Weight   string `json:"weight,omitempty"`
	Color    string `json:"color,omitempty"`
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
// as the value of a message activity. It names the entry and language the
// card showed, so that a click works without the conversation's state.
type submitData struct {
	// Action is one of the act* constants; its key tells the bot's data
	// apart from anything else a value may hold.
	Action string  `json:"enrollbot"`
	Entry  string  `json:"e,omitempty"`
	N      int     `json:"n,omitempty"`
	Lang   kb.Lang `json:"l,omitempty"`
	// Question and Option answer a follow-up question; Label is the
	// option's label, which the engine reads.
	Question string `json:"q,omitempty"`
	Option   string `json:"o,omitempty"`
	Label    string `json:"t,omitempty"`
	// Causes are the cause ids in the order the card showed them, and Code
	// the error code as the user wrote it: to show the answer again.
	Causes []string `json:"k,omitempty"`
	Code   string   `json:"r,omitempty"`
}

// The actions of the bot's buttons.
const (
	actPick      = "pick"
	actAnswer    = "answer"
	actSolved    = "solved"
	actNotSolved = "not-solved"
)

// view is how a reply is shown, beyond what the reply holds.
type view struct {
	// verdict is the feedback given, shown instead of the feedback buttons.
	verdict *verdict
}

// verdict is a user's feedback on an answer.
type verdict struct {
	// name is the display name of who gave it.
	name   string
	solved bool
}

// renderer turns engine replies into Adaptive Cards.
type renderer struct {
	w *words
}

func newCard(lang kb.Lang, fallback string) card {
	if strings.TrimSpace(fallback) == "" {
		fallback = "…"
	}
	return card{Schema: CardSchema, Type: "AdaptiveCard", Version: CardVersion, Lang: string(lang),
		FallbackText: cut(fallback, maxFallback), MSTeams: &msteams{Width: "Full"}}
}

var bold = regexp.MustCompile(`\*\*([^*\n]+?)\*\*`)

// runs turns text with the catalog's **bold** into TextRuns; everything
// else shows as written, so no text the bot quotes is read as Markdown.
func runs(text string, style inline) []inline {
	var out []inline
	add := func(s string, strong bool) {
		if s == "" {
			return
		}
		r := style
		r.Type, r.Text = "TextRun", s
		if strong {
			r.Weight = "Bolder"
		}
		out = append(out, r)
	}
	last := 0
	for _, m := range bold.FindAllStringSubmatchIndex(text, -1) {
		add(text[last:m[0]], style.Weight == "Bolder")
		add(text[m[2]:m[3]], true)
		last = m[1]
	}
	add(text[last:], style.Weight == "Bolder")
	return out
}

// rich is a RichTextBlock of inlines.
func rich(inlines ...inline) element {
	return element{Type: "RichTextBlock", Inlines: inlines}
}

// para is a RichTextBlock of text with the catalog's **bold**.
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

func submit(title string, data submitData) action {
	return action{Type: "Action.Submit", Title: cutRunes(title, maxButtonTitle), Data: &data}
}

// attachment wraps a card for an activity.
func attachment(c card) schema.Attachment {
	return schema.Attachment{ContentType: CardContentType, Content: c}
}

// reply renders an engine reply.
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
	code := ""
	if r.Code != nil {
		code = cutBytes(r.Code.Raw, 64)
	}
	switch {
	case r.Kind == bot.KindAnswer:
		rd.answer(&c, r, lang, code, v)
	case r.Kind == bot.KindChoices:
		rd.choices(&c, r, lang)
	case r.Kind == bot.KindCode && r.Code != nil:
		c.Body = append(c.Body, rich(inline{Type: "TextRun", Text: r.Code.Title, Size: "Large", Weight: "Bolder"}))
		c.Body = append(c.Body, codeElements(r.Code, false)...)
		c.Body = append(c.Body, rd.questions(r, lang, "")...)
	default:
		if r.Intro != "" {
			c.Body = append(c.Body, para(r.Intro, plainStyle))
		}
		c.Body = append(c.Body, rd.questions(r, lang, "")...)
	}
	if len(c.Body) == 0 {
		// A reply with nothing to show still needs a body.
		c.Body = append(c.Body, para(c.FallbackText, plainStyle))
	}
	return c
}

// summary is the notification text of a reply.
func summary(r bot.Reply) string {
	switch {
	case r.Kind == bot.KindAnswer && r.Entry != nil:
		return cut(r.Entry.Title, maxSummary)
	case r.Code != nil && r.Kind == bot.KindCode:
		return cut(r.Code.Title, maxSummary)
	}
	return cut(r.Intro, maxSummary)
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
		out = append(out, para(c.NoEntry, plainStyle))
	}
	if c.Meaning != "" {
		out = append(out, para(c.Meaning, plainStyle))
	}
	if c.Repaired != "" {
		out = append(out, para(c.Repaired, inline{Italic: true, IsSubtle: true}))
	}
	return out
}

func causeElements(c bot.Cause, w bot.Words, separator bool) element {
	box := element{Type: "Container", Separator: separator, Spacing: "Medium"}
	box.Items = append(box.Items, rich(append([]inline{label(c.Heading + ": ")}, runs(c.Summary, plainStyle)...)...))
	if len(c.Steps) > 0 {
		steps := rich(label(w.Steps))
		steps.Spacing = "Small"
		box.Items = append(box.Items, steps)
		for i, s := range c.Steps {
			step := rich(append([]inline{{Type: "TextRun", Text: strconv.Itoa(i+1) + ". "}}, runs(s, plainStyle)...)...)
			step.Spacing = "Small"
			box.Items = append(box.Items, step)
		}
	}
	for _, n := range c.Notes {
		note := rich(append([]inline{{Type: "TextRun", Text: w.Note + ": ", Weight: "Bolder", IsSubtle: true}}, runs(n, inline{IsSubtle: true})...)...)
		note.Spacing = "Small"
		box.Items = append(box.Items, note)
	}
	return box
}

func (rd *renderer) answer(c *card, r bot.Reply, lang kb.Lang, code string, v view) {
	e := r.Entry
	c.Body = append(c.Body,
		rich(inline{Type: "TextRun", Text: e.Title, Size: "Large", Weight: "Bolder"}),
		rich(inline{Type: "TextRun", Text: r.Words.Platform + ": " + e.Platform.Name(), IsSubtle: true}))
	if r.Code != nil {
		c.Body = append(c.Body, codeElements(r.Code, true)...)
	}
	if len(e.Causes) > 0 {
		c.Body = append(c.Body, causeElements(e.Causes[0], r.Words, false))
	}
	c.Body = append(c.Body, rd.questions(r, lang, e.ID)...)

	data := submitData{Entry: e.ID, Lang: lang, Code: code}
	for _, cause := range e.Causes {
		data.Causes = append(data.Causes, cause.ID)
	}
	if v.verdict != nil {
		c.Body = append(c.Body, rd.verdictLine(lang, *v.verdict))
	} else {
		solved, notSolved := data, data
		solved.Action, notSolved.Action = actSolved, actNotSolved
		ok := submit(rd.w.Get(lang, "TeamsSolved", nil), solved)
		ok.Style = "positive"
		c.Actions = append(c.Actions, ok, submit(rd.w.Get(lang, "TeamsNotSolved", nil), notSolved))
	}
	if u := sourceURL(e.SourceURL); u != "" {
		c.Actions = append(c.Actions, action{Type: "Action.OpenUrl", Title: r.Words.Source, URL: u})
	}
	// The other causes go behind a button; within Teams' size limit, as
	// many as fit, and a line says where to find the rest.
	others := e.Causes[min(1, len(e.Causes)):]
	base := *c
	for k := len(others); k >= 0; k-- {
		*c = base
		c.Body = slices.Clone(base.Body)
		c.Actions = slices.Clone(base.Actions)
		if k > 0 {
			more := &card{Type: "AdaptiveCard"}
			for i, cause := range others[:k] {
				more.Body = append(more.Body, causeElements(cause, r.Words, i > 0))
			}
			show := action{Type: "Action.ShowCard", Card: more,
				Title: cutRunes(rd.w.Get(lang, "TeamsOtherCauses", map[string]any{"N": k}), maxButtonTitle)}
			// Before the source link, after the feedback buttons.
			at := len(c.Actions)
			if at > 0 && c.Actions[at-1].Type == "Action.OpenUrl" {
				at--
			}
			c.Actions = slices.Insert(c.Actions, at, show)
		}
		if k < len(others) {
			c.Body = append(c.Body, para(rd.w.Get(lang, "TeamsMoreCauses", map[string]any{"N": len(others) - k}), subtleStyle))
		}
		if cardSize(*c) <= MaxCardBytes {
			return
		}
	}
}

func (rd *renderer) choices(c *card, r bot.Reply, lang kb.Lang) {
	if r.Code != nil {
		c.Body = append(c.Body, codeElements(r.Code, true)...)
	}
	if r.Intro != "" {
		c.Body = append(c.Body, para(r.Intro, boldStyle))
	}
	var buttons []action
	for _, ch := range r.Choices {
		line := rich(inline{Type: "TextRun", Text: strconv.Itoa(ch.N) + ". ", Weight: "Bolder"},
			inline{Type: "TextRun", Text: ch.Title + " (" + ch.Platform.Name() + ")"})
		line.Spacing = "Small"
		c.Body = append(c.Body, line)
		if len(buttons) < MaxActions {
			buttons = append(buttons, submit(strconv.Itoa(ch.N)+". "+ch.Title,
				submitData{Action: actPick, Entry: ch.ID, N: ch.N, Lang: lang}))
		}
	}
	if len(buttons) > 0 {
		c.Body = append(c.Body, element{Type: "ActionSet", Actions: buttons})
	}
	if r.Hint != "" {
		c.Body = append(c.Body, para(r.Hint, subtleStyle))
	}
	c.Body = append(c.Body, rd.questions(r, lang, "")...)
}

// questions renders the follow-up questions, each with its answers as
// buttons; entry is the entry the answers are about ("" before there is
// one).
func (rd *renderer) questions(r bot.Reply, lang kb.Lang, entry string) []element {
	if len(r.Questions) == 0 {
		return nil
	}
	var out []element
	if r.Kind != bot.KindClarify && r.Words.FollowUp != "" {
		h := para(r.Words.FollowUp, boldStyle)
		h.Separator, h.Spacing = true, "Medium"
		out = append(out, h)
	}
	for _, q := range r.Questions {
		out = append(out, para(q.Text, plainStyle))
		switch {
		case len(q.Options) == 0:
		case len(q.Options) <= maxOptionButtons:
			set := element{Type: "ActionSet"}
			for _, o := range q.Options {
				set.Actions = append(set.Actions, submit(o.Label, submitData{Action: actAnswer, Entry: entry,
					Question: q.ID, Option: o.ID, Label: o.Label, Lang: lang}))
			}
			out = append(out, set)
		default:
			labels := make([]string, len(q.Options))
			for i, o := range q.Options {
				labels[i] = o.Label
			}
			out = append(out, para("("+strings.Join(labels, " / ")+")", subtleStyle))
		}
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

// namePlaceholder stands for a user's name in a sentence until it is put in
// as a TextRun of its own, shown as written.
const namePlaceholder = "\x00name\x00"

// verdictText is the sentence that reports v, as plain text.
func (rd *renderer) verdictText(lang kb.Lang, v verdict) string {
	return strings.ReplaceAll(rd.verdictTemplate(lang, v), namePlaceholder, v.name)
}

func (rd *renderer) verdictTemplate(lang kb.Lang, v verdict) string {
	id := "TeamsFeedbackNotSolved"
	if v.solved {
		id = "TeamsFeedbackSolved"
	}
	return rd.w.Get(lang, id, map[string]any{"User": namePlaceholder})
}

// verdictLine is the sentence that reports v on a card: the wording's
// **bold** applies, the name shows as the user wrote it.
func (rd *renderer) verdictLine(lang kb.Lang, v verdict) element {
	style := inline{Color: "Good"}
	var inlines []inline
	for i, part := range strings.Split(rd.verdictTemplate(lang, v), namePlaceholder) {
		if i > 0 {
			name := style
			name.Type, name.Text, name.Weight = "TextRun", v.name, "Bolder"
			inlines = append(inlines, name)
		}
		inlines = append(inlines, runs(part, style)...)
	}
	return rich(inlines...)
}

// verdictCard is a card of the sentence that reports v alone.
func (rd *renderer) verdictCard(lang kb.Lang, v verdict) card {
	c := newCard(lang, rd.verdictText(lang, v))
	c.Body = append(c.Body, rd.verdictLine(lang, v))
	return c
}

// note is a card of one of the bot's own sentences.
func (rd *renderer) note(lang kb.Lang, text string) card {
	c := newCard(lang, text)
	c.Body = append(c.Body, para(text, plainStyle))
	return c
}

// sourceURL returns raw when it is an https URL, else nothing.
func sourceURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
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
