package slackbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/plain"
	"github.com/enrollbot/enrollbot/kb"
)

// message is a rendered Slack message: Block Kit blocks and the text that
// notifications and clients without blocks show.
type message struct {
	Text   string
	Blocks []slack.Block
}

// Action ids of the buttons (and menus) the bot puts on its messages, and
// the block ids of the blocks that hold them. Action ids are unique within
// a message; the value says what a button does.
const (
	actionPickPrefix    = "enroll_pick_"
	actionRelatedPrefix = "enroll_related_"
	actionChoosePrefix  = "enroll_choose_"
	actionLangPrefix    = "enroll_lang_"
	actionAllCauses     = "enroll_all_causes"
	actionSolved        = "enroll_solved"
	actionNotSolved     = "enroll_not_solved"
	actionPerson        = "enroll_person"
	actionHandoffSend   = "enroll_handoff_send"
	actionHandoffCancel = "enroll_handoff_cancel"
	actionShare         = "enroll_share"
	// actionMore is "Other causes" on messages sent before the buttons
	// carried the engine's inputs: every cause, as All causes.
	actionMore = "enroll_more"

	blockAnswerActions  = "enroll_answer"
	blockChoicesActions = "enroll_choices"
	blockRelatedActions = "enroll_related"
	blockLangActions    = "enroll_lang"
)

// actShare is the "Post to channel" button's action: not an engine input
// of its own (it shows the conversation's reply, bot.ActShow, elsewhere).
const actShare bot.Action = "share"

// langNames are the languages as their speakers write them, for the
// language buttons.
var langNames = map[kb.Lang]string{kb.English: "English", kb.Dutch: "Nederlands", kb.Swedish: "Svenska", kb.German: "Deutsch"}

// view is how a reply is shown, beyond what the reply holds.
type view struct {
	// conv is the conversation the reply belongs to, carried by its buttons
	// so that a click continues it; empty when the click's own channel and
	// thread tell it (a message posted before its thread was known).
	conv string
	// echo is the user's text to quote above the reply (slash commands,
	// whose text nobody else sees); empty for none. asker is who wrote it.
	echo  string
	asker string
	// private marks a message only the asker sees (slash commands): its
	// buttons carry the echo, so that the reply a click puts in its place
	// quotes it still.
	private bool
	// share offers "Post to channel" (private replies).
	share bool
}

// ref is what a button carries (its value, as JSON): the engine input it
// stands for and the conversation it continues. It is bounded and checked
// when a click brings it back (decodeRef).
type ref struct {
	// Act is the engine action, or actShare.
	Act bot.Action `json:"a,omitempty"`
	// Conv is the conversation key; empty when the click tells it.
	Conv     string `json:"c,omitempty"`
	Entry    string `json:"e,omitempty"`
	Question string `json:"q,omitempty"`
	Option   string `json:"p,omitempty"`
	// Lang is the language the message was shown in, or for ActLang the
	// language chosen.
	Lang kb.Lang `json:"l,omitempty"`
	// Text is the asker's text a private message quotes.
	Text string `json:"t,omitempty"`
}

// Bounds on what a button value may carry.
const (
	maxRefConv = 255
	maxRefID   = 200
	// maxOptionValue is Slack's limit on a menu option's value.
	maxOptionValue = 150
)

// input is the engine input a button stands for. A click has no words to
// tell its language by: the message's language stands in for the client's
// locale, so that a click on a message whose conversation expired is
// answered in the language the user was reading (the conversation's own
// language, or a saved preference, still comes first).
func (r ref) input() bot.Input {
	in := bot.Input{Action: r.Act, Entry: r.Entry, Question: r.Question, Option: r.Option}
	if r.Act == bot.ActLang {
		in.Lang = r.Lang
	} else {
		in.Locale = string(r.Lang)
	}
	return in
}

// encode returns r as a value within limit bytes: the quoted text is
// shortened (to the longest prefix that fits) or dropped, then the
// conversation, which the click's channel and thread tell too.
func (r ref) encode(limit int) string {
	if s := r.json(); len(s) <= limit {
		return s
	}
	if r.Text != "" {
		text := r.Text
		lo, hi := 0, len(text)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			r.Text = cutRaw(text, mid)
			if len(r.json()) <= limit {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		r.Text = cutRaw(text, lo)
		if s := r.json(); len(s) <= limit {
			return s
		}
	}
	r.Conv = ""
	return r.json()
}

func (r ref) json() string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		// A ref holds only strings.
		panic(fmt.Sprintf("slack: encode button value: %v", err))
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

var refID = regexp.MustCompile(`^[A-Za-z0-9._:-]*$`)

// legacyActions are the actions of buttons sent before the values carried
// one, by action id.
var legacyActions = map[string]bot.Action{actionSolved: bot.ActSolved, actionNotSolved: bot.ActNotSolved,
	actionMore: bot.ActAllCauses, actionShare: actShare}

// decodeRef reads a button value and checks it: an action the engine (or
// the adapter) knows, with what it needs, ids of a bounded size and
// alphabet, a catalog language. actionID tells the action of older
// buttons whose value did not.
func decodeRef(s, actionID string) (ref, error) {
	var r ref
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return ref{}, fmt.Errorf("decode button value: %w", err)
	}
	if r.Act == "" {
		r.Act = legacyActions[actionID]
		if strings.HasPrefix(actionID, actionPickPrefix) {
			r.Act = bot.ActPick
		}
	}
	if r.Act != actShare && !slices.Contains(bot.Actions, r.Act) {
		return ref{}, fmt.Errorf("decode button value: unknown action %q", r.Act)
	}
	if len(r.Conv) > maxRefConv || !strings.HasPrefix(r.Conv, "slack:") && r.Conv != "" {
		return ref{}, fmt.Errorf("decode button value: bad conversation %q", cutRaw(r.Conv, 64))
	}
	for _, id := range []string{r.Entry, r.Question, r.Option} {
		if len(id) > maxRefID || !refID.MatchString(id) {
			return ref{}, fmt.Errorf("decode button value: bad id %q", cutRaw(id, 64))
		}
	}
	if !r.Lang.Valid() {
		r.Lang = ""
	}
	r.Text = cutRaw(r.Text, maxButtonValue)
	switch {
	case r.Act == bot.ActPick && r.Entry == "",
		r.Act == bot.ActChoose && (r.Question == "" || r.Option == ""),
		r.Act == bot.ActLang && r.Lang == "":
		return ref{}, fmt.Errorf("decode button value: %s without what it needs", r.Act)
	}
	return r, nil
}

// renderer turns engine replies into Slack messages.
type renderer struct {
	w *words
}

// blockList collects blocks within Slack's budget of 50.
type blockList struct {
	blocks []slack.Block
}

func (l *blockList) add(b ...slack.Block) { l.blocks = append(l.blocks, b...) }

func (l *blockList) sections(text string) {
	for _, c := range chunk(text, maxSectionText) {
		l.add(section(c))
	}
}

func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func contextBlock(blockID string, texts ...string) *slack.ContextBlock {
	var elems []slack.MixedElement
	for _, t := range texts {
		if t == "" {
			continue
		}
		if len(elems) == maxContextElem {
			break
		}
		elems = append(elems, slack.NewTextBlockObject(slack.MarkdownType, cut(t, maxContextText), false, false))
	}
	return slack.NewContextBlock(blockID, elems...)
}

func plainText(s string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, cutChars(strings.TrimSpace(s), n), true, false)
}

func button(actionID, label string, r ref) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, r.encode(maxButtonValue), plainText(label, maxButtonText))
}

// note renders one of the bot's own texts, which are mrkdwn.
func note(text string) message {
	text = mrkdwn(strings.TrimSpace(text))
	msg := message{Text: cut(text, maxFallback)}
	for _, s := range chunk(text, maxSectionText) {
		msg.Blocks = append(msg.Blocks, section(s))
	}
	return msg
}

// langButtons offers a button per language, each switching the
// conversation conv to it.
func langButtons(conv string) []slack.BlockElement {
	var out []slack.BlockElement
	for _, l := range kb.Langs {
		out = append(out, button(actionLangPrefix+string(l), langNames[l], ref{Act: bot.ActLang, Conv: conv, Lang: l}))
	}
	return out
}

// render returns reply as a Slack message shown as v says.
func (rd *renderer) render(reply bot.Reply, v view) message {
	if !reply.Lang.Valid() {
		reply.Lang = kb.English
	}
	var head blockList
	if v.echo != "" {
		head.add(contextBlock("", rd.w.withUser(reply.Lang, "SlackAsked", v.asker, nil)+"\n"+escape(cut(strings.TrimSpace(v.echo), maxEcho))))
	}
	if len(reply.Notices) > 0 {
		var ns []string
		for _, n := range reply.Notices {
			ns = append(ns, mrkdwn(n))
		}
		head.add(contextBlock("", ns...))
	}
	base := ref{Conv: v.conv, Lang: reply.Lang}
	if v.private {
		base.Text = cutRaw(strings.TrimSpace(v.echo), maxEcho)
	}
	// The tail (questions, related entries, buttons) is laid out first, so
	// that a long answer is cut to leave room for it.
	tail := rd.tail(reply, v, base)
	budget := maxBlocks - len(head.blocks) - len(tail)
	var body blockList
	switch reply.Kind {
	case bot.KindAnswer:
		if reply.Entry != nil {
			rd.answer(&body, reply, budget)
			break
		}
		rd.intro(&body, reply)
	case bot.KindChoices:
		rd.choices(&body, reply, base)
	case bot.KindCode:
		rd.code(&body, reply)
	case bot.KindSummary, bot.KindHandoff:
		rd.intro(&body, reply)
		rd.summary(&body, reply.Summary)
	case bot.KindOutOfScope:
		rd.intro(&body, reply)
		if link := linkText(reply.Link); link != "" {
			body.add(section(link))
		}
	default:
		// Clarify, smalltalk, limited: what the engine says; the questions
		// and buttons follow.
		rd.intro(&body, reply)
	}
	if len(head.blocks)+len(body.blocks)+len(tail) == 0 {
		body.add(section(fallback(reply)))
	}
	blocks := append(append(head.blocks, body.blocks...), tail...)
	return message{Text: fallback(reply), Blocks: fit(blocks)}
}

// fallback is the message's text: what notifications show. It is the plain
// rendering, escaped like everything else.
func fallback(reply bot.Reply) string {
	s := strings.TrimSpace(plain.Render(reply))
	if s == "" {
		s = "…"
	}
	return cut(plainBold(escape(s)), maxFallback)
}

func (rd *renderer) intro(l *blockList, reply bot.Reply) {
	if s := strings.TrimSpace(reply.Intro); s != "" {
		l.sections(mrkdwn(s))
	}
}

func (rd *renderer) codeSection(l *blockList, c *bot.Code, withTitle bool) {
	var b strings.Builder
	if withTitle {
		b.WriteString("*" + escape(c.Title) + "*")
		if c.Symbol != "" && c.Symbol != c.Hex && !strings.Contains(c.Title, c.Symbol) {
			b.WriteString(" (" + escape(c.Symbol) + ")")
		}
		b.WriteString(": ")
	} else if c.Symbol != "" && c.Symbol != c.Hex && !strings.Contains(c.Title, c.Symbol) {
		b.WriteString("*" + escape(c.Symbol) + "*: ")
	}
	if c.NoEntry != "" {
		b.WriteString(mrkdwn(c.NoEntry) + "\n")
	}
	b.WriteString(mrkdwn(c.Meaning))
	if c.Repaired != "" {
		b.WriteString("\n_" + escape(c.Repaired) + "_")
	}
	l.sections(b.String())
}

// header is a header block: plain text cut to Slack's limit in characters.
func header(text string) slack.Block {
	return slack.NewHeaderBlock(plainText(text, maxHeaderText))
}

// answer lays out a diagnosis in at most budget blocks: what changed (a
// follow-up), the title, the code, and the causes (a brief answer only the
// first). Causes beyond the budget are pointed to the source.
func (rd *renderer) answer(l *blockList, reply bot.Reply, budget int) {
	e := reply.Entry
	rd.intro(l, reply)
	l.add(header(e.Title))
	if reply.Code != nil && !reply.Brief {
		rd.codeSection(l, reply.Code, true)
	}
	causes := e.Causes
	brief := reply.Brief && len(causes) > 1
	if brief {
		causes = causes[:1]
	}
	// One block is kept for the pointer to the source or to the causes
	// held back.
	budget -= len(l.blocks) + 1
	for i, c := range causes {
		var cb blockList
		if i > 0 {
			cb.add(slack.NewDividerBlock())
		}
		cb.sections("*" + escape(c.Heading) + ":* " + mrkdwn(c.Summary))
		if len(c.Steps) > 0 {
			var b strings.Builder
			b.WriteString("*" + escape(reply.Words.Steps) + "*")
			for j, s := range c.Steps {
				fmt.Fprintf(&b, "\n%d. %s", j+1, mrkdwn(s))
			}
			cb.sections(b.String())
		}
		if len(c.Notes) > 0 {
			var notes []string
			for _, n := range c.Notes {
				notes = append(notes, "*"+escape(reply.Words.Note)+":* "+mrkdwn(n))
			}
			for len(notes) > 0 {
				k := min(len(notes), maxContextElem)
				cb.add(contextBlock("", notes[:k]...))
				notes = notes[k:]
			}
		}
		if len(cb.blocks) > budget {
			l.add(contextBlock("", escape(rd.w.Get(reply.Lang, "SlackMoreCauses", map[string]any{"N": len(e.Causes) - i}))))
			return
		}
		budget -= len(cb.blocks)
		l.add(cb.blocks...)
	}
	if brief && reply.Words.MoreCauses != "" {
		l.add(contextBlock("", mrkdwn(reply.Words.MoreCauses)))
	}
	if !brief && len(e.Collect) > 0 {
		// What to gather when the steps did not help.
		var items []string
		for _, c := range e.Collect {
			items = append(items, mrkdwn(c))
		}
		l.add(contextBlock("", cut("*"+escape(reply.Words.Collect)+"* "+strings.Join(items, " • "), maxContextText)))
	}
	if !brief && len(reply.RuledOut) > 0 {
		// What the facts ruled out, and why: one context line each.
		var lines []string
		for _, c := range reply.RuledOut {
			lines = append(lines, "~"+escape(c.Text)+"~ ("+escape(reply.Words.Because)+" "+escape(c.Because)+")")
		}
		l.add(contextBlock("", cut("*"+escape(reply.Words.RuledOut)+"*: "+strings.Join(lines, " • "), maxContextText)))
	}
}

// tail lays out what follows a reply's content: an answer's platform and
// source, the follow-up questions with their options, the entries worth a
// look next to an answer, and the row of buttons.
func (rd *renderer) tail(reply bot.Reply, v view, base ref) []slack.Block {
	var l blockList
	answer := reply.Kind == bot.KindAnswer && reply.Entry != nil
	if answer {
		e := reply.Entry
		meta := []string{escape(reply.Words.Platform + ": " + e.Platform.Name())}
		if link := sourceLink(e.SourceURL); link != "" {
			meta = append(meta, "*"+escape(reply.Words.Source)+":* "+link)
		}
		l.add(contextBlock("", meta...))
	}
	rd.questions(&l, reply, base)
	if answer && len(reply.Choices) > 0 {
		rd.related(&l, reply, base)
	}

	var buttons []slack.BlockElement
	if answer {
		e := reply.Entry
		r := base
		r.Entry = e.ID
		if reply.Brief && len(e.Causes) > 1 {
			r.Act = bot.ActAllCauses
			buttons = append(buttons, button(actionAllCauses, fmt.Sprintf("%s (%d)", reply.Words.AllCauses, len(e.Causes)), r))
		}
		r.Act = bot.ActSolved
		buttons = append(buttons, button(actionSolved, ":+1: "+reply.Words.Solved, r).WithStyle(slack.StylePrimary))
		r.Act = bot.ActNotSolved
		buttons = append(buttons, button(actionNotSolved, ":-1: "+reply.Words.NotSolved, r))
	}
	if reply.OfferPerson && reply.Kind != bot.KindHandoff {
		r := base
		r.Act = bot.ActPerson
		buttons = append(buttons, button(actionPerson, reply.Words.Person, r))
	}
	if reply.ConfirmHandoff {
		r := base
		r.Act = bot.ActHandoffSend
		buttons = append(buttons, button(actionHandoffSend, reply.Words.Send, r).WithStyle(slack.StylePrimary))
		r.Act = bot.ActHandoffCancel
		buttons = append(buttons, button(actionHandoffCancel, reply.Words.Cancel, r))
	}
	if v.share {
		r := base
		r.Act = actShare
		if answer {
			r.Entry = reply.Entry.ID
		}
		buttons = append(buttons, button(actionShare, rd.w.Get(reply.Lang, "SlackPostToChannel", nil), r))
	}
	if len(buttons) > 0 {
		l.add(slack.NewActionBlock(blockAnswerActions, buttons...))
	}
	return l.blocks
}

// questions asks the follow-up questions, each with its options as
// buttons (a menu when there are many) that answer it.
func (rd *renderer) questions(l *blockList, reply bot.Reply, base ref) {
	if len(reply.Questions) == 0 {
		return
	}
	if reply.Kind != bot.KindClarify && reply.Words.FollowUp != "" {
		l.add(section("*" + escape(reply.Words.FollowUp) + "*"))
	}
	for qi, q := range reply.Questions {
		text := cut("• "+mrkdwn(q.Text), maxSectionText)
		if len(q.Options) == 0 {
			l.add(section(text))
			continue
		}
		r := base
		r.Act, r.Question = bot.ActChoose, q.ID
		if len(q.Options) > maxQuestionButtons {
			var opts []*slack.OptionBlockObject
			for _, o := range q.Options[:min(len(q.Options), maxSelectOptions)] {
				r.Option, r.Text = o.ID, ""
				opts = append(opts, slack.NewOptionBlockObject(r.encode(maxOptionValue), plainText(o.Label, maxOptionText), nil))
			}
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, actionChoosePrefix+strconv.Itoa(qi), opts...)
			l.add(slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, slack.NewAccessory(sel)))
			continue
		}
		l.add(section(text))
		var buttons []slack.BlockElement
		for oi, o := range q.Options {
			r.Option = o.ID
			buttons = append(buttons, button(fmt.Sprintf("%s%d_%d", actionChoosePrefix, qi, oi), o.Label, r))
		}
		l.add(slack.NewActionBlock("", buttons...))
	}
}

// related offers the entries worth a look next to an answer, a button
// each.
func (rd *renderer) related(l *blockList, reply bot.Reply, base ref) {
	choices := reply.Choices[:min(len(reply.Choices), maxRelated)]
	var b strings.Builder
	b.WriteString("*" + escape(reply.Words.Related) + "*")
	var buttons []slack.BlockElement
	for i, c := range choices {
		fmt.Fprintf(&b, "\n• %s (%s)", mrkdwn(c.Title), escape(c.Platform.Name()))
		r := base
		r.Act, r.Entry = bot.ActPick, c.ID
		buttons = append(buttons, button(actionRelatedPrefix+strconv.Itoa(i+1), c.Title, r))
	}
	l.sections(b.String())
	l.add(slack.NewActionBlock(blockRelatedActions, buttons...))
}

func (rd *renderer) choices(l *blockList, reply bot.Reply, base ref) {
	if reply.Code != nil {
		rd.codeSection(l, reply.Code, true)
	}
	var b strings.Builder
	b.WriteString("*" + mrkdwn(reply.Intro) + "*")
	for _, c := range reply.Choices {
		fmt.Fprintf(&b, "\n*%d.* %s (%s)", c.N, mrkdwn(c.Title), escape(c.Platform.Name()))
	}
	if reply.Hint != "" {
		b.WriteString("\n_" + mrkdwn(reply.Hint) + "_")
	}
	l.sections(b.String())
	var buttons []slack.BlockElement
	for _, c := range reply.Choices {
		if len(buttons) == maxActionElems {
			break
		}
		r := base
		r.Act, r.Entry = bot.ActPick, c.ID
		buttons = append(buttons, button(actionPickPrefix+strconv.Itoa(c.N), strconv.Itoa(c.N)+". "+c.Title, r))
	}
	if len(buttons) > 0 {
		l.add(slack.NewActionBlock(blockChoicesActions, buttons...))
	}
}

func (rd *renderer) code(l *blockList, reply bot.Reply) {
	if c := reply.Code; c != nil {
		l.add(header(c.Title))
		rd.codeSection(l, c, false)
		return
	}
	rd.intro(l, reply)
}

// summary shows the conversation summed up as the engine wrote it: plain
// text, escaped, in a code block.
func (rd *renderer) summary(l *blockList, s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	s = escape(strings.ReplaceAll(s, "```", "'''"))
	for _, c := range chunk(s, maxSectionText-len("``````")) {
		l.add(section("```" + c + "```"))
	}
}

// linkText returns a mrkdwn link to an https page, named by its title, or
// nothing for anything else.
func linkText(link *bot.Link) string {
	if link == nil || !safeURL(link.URL) {
		return ""
	}
	title := strings.TrimSpace(link.Title)
	if title == "" {
		title = link.URL
	}
	return "<" + strings.ReplaceAll(link.URL, "&", "&amp;") + "|" + escape(strings.ReplaceAll(title, "|", "/")) + ">"
}

// sourceLink returns a mrkdwn link to an https source, named by its host,
// or nothing for anything else.
func sourceLink(raw string) string {
	if !safeURL(raw) {
		return ""
	}
	u, _ := url.Parse(raw)
	return "<" + strings.ReplaceAll(raw, "&", "&amp;") + "|" + escape(u.Host) + ">"
}

// safeURL reports whether raw is an https URL that can stand in a mrkdwn
// link as it is.
func safeURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && !strings.ContainsAny(raw, "<>| \n")
}

// fit keeps a message within 50 blocks, should the budgets above ever be
// outgrown: the middle goes, the last two rows of buttons stay.
func fit(blocks []slack.Block) []slack.Block {
	if len(blocks) <= maxBlocks {
		return blocks
	}
	var actions, rest []slack.Block
	for _, b := range blocks {
		if b.BlockType() == slack.MBTAction {
			actions = append(actions, b)
		} else {
			rest = append(rest, b)
		}
	}
	if len(actions) > 2 {
		actions = actions[len(actions)-2:]
	}
	rest = rest[:min(len(rest), maxBlocks-len(actions))]
	return append(rest, actions...)
}
