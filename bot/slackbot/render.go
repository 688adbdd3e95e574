package slackbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
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

// Action ids of the buttons the bot puts on its messages, and the block ids
// of the blocks that hold them.
const (
	actionPickPrefix = "enroll_pick_"
	actionSolved     = "enroll_solved"
	actionNotSolved  = "enroll_not_solved"
	actionMore       = "enroll_more"
	actionShare      = "enroll_share"

	blockAnswerActions  = "enroll_answer"
	blockChoicesActions = "enroll_choices"
	blockShareActions   = "enroll_share"
	blockVerdict        = "enroll_verdict"
)

// view is how a reply is shown, beyond what the reply holds.
type view struct {
	// conv is the conversation the reply belongs to, carried by its buttons
	// so that a click continues it; empty when the click's own channel and
	// thread tell it.
	conv string
	// echo is the user's text to quote above the reply (slash commands,
	// whose text nobody else sees); empty for none.
	echo  string
	asker string
	// share offers "Post to channel" (ephemeral replies).
	share bool
	// expanded shows every cause instead of the most likely one.
	expanded bool
	// verdict is the feedback given, shown instead of the feedback buttons.
	verdict *verdict
}

// verdict is a user's feedback on an answer.
type verdict struct {
	user   string
	solved bool
}

// ref is what a button carries (its value, as JSON) so that a click can
// redo the reply it belongs to without remembering anything: the
// conversation, the entry and how it was shown.
type ref struct {
	Conv   string   `json:"c,omitempty"`
	Entry  string   `json:"e,omitempty"`
	Lang   kb.Lang  `json:"l,omitempty"`
	N      int      `json:"n,omitempty"`
	Causes []string `json:"k,omitempty"`
	// Code is the error code as the user wrote it, to show it again.
	Code  string `json:"r,omitempty"`
	Text  string `json:"t,omitempty"`
	Asker string `json:"u,omitempty"`
	Share bool   `json:"s,omitempty"`
	Open  bool   `json:"x,omitempty"`
	// Verdict is who gave feedback on the answer, Solved what it was.
	Verdict string `json:"v,omitempty"`
	Solved  bool   `json:"o,omitempty"`
}

// encode returns r as a button value within Slack's limit, shortening the
// quoted text (to the longest prefix that fits) and then dropping the
// cause order if it must.
func (r ref) encode() string {
	if s := r.json(); len(s) <= maxButtonValue {
		return s
	}
	if r.Text != "" {
		text := r.Text
		lo, hi := 0, len(text)
		for lo < hi {
			mid := (lo + hi + 1) / 2
			r.Text = cutRaw(text, mid)
			if len(r.json()) <= maxButtonValue {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		r.Text = cutRaw(text, lo)
		if s := r.json(); len(s) <= maxButtonValue {
			return s
		}
	}
	r.Causes = nil
	if s := r.json(); len(s) <= maxButtonValue {
		return s
	}
	// Ids are bounded by the catalog and Slack; only broken ones get here.
	r.Conv, r.Entry, r.Code, r.Asker, r.Verdict = cutRaw(r.Conv, 255), cutRaw(r.Entry, 255), "", "", ""
	return r.json()
}

func (r ref) json() string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		// A ref holds only strings, ints and bools.
		panic(fmt.Sprintf("slack: encode button value: %v", err))
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func decodeRef(s string) (ref, error) {
	var r ref
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return ref{}, fmt.Errorf("decode button value: %w", err)
	}
	if r.Lang != "" && !r.Lang.Valid() {
		r.Lang = ""
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

func button(actionID, label, value string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value,
		slack.NewTextBlockObject(slack.PlainTextType, cut(label, maxButtonText), true, false))
}

// render returns reply as a Slack message shown as v says.
func (rd *renderer) render(reply bot.Reply, v view) message {
	var l blockList
	lang := reply.Lang
	if !lang.Valid() {
		lang = kb.English
	}
	if v.echo != "" {
		l.add(contextBlock("", rd.w.withUser(lang, "SlackAsked", v.asker)+"\n"+escape(cut(strings.TrimSpace(v.echo), maxEcho))))
	}
	if len(reply.Notices) > 0 {
		var ns []string
		for _, n := range reply.Notices {
			ns = append(ns, mrkdwn(n))
		}
		l.add(contextBlock("", ns...))
	}
	base := ref{Conv: v.conv, Lang: lang, Text: v.echo, Asker: v.asker, Share: v.share}
	if reply.Code != nil {
		base.Code = cutRaw(reply.Code.Raw, 64)
	}
	switch reply.Kind {
	case bot.KindAnswer:
		if reply.Entry != nil {
			rd.answer(&l, reply, v, base)
			break
		}
		rd.clarify(&l, reply)
	case bot.KindChoices:
		rd.choices(&l, reply, base)
	case bot.KindCode:
		rd.code(&l, reply, base)
	default:
		rd.clarify(&l, reply)
	}
	return message{Text: fallback(reply), Blocks: fit(l.blocks)}
}

// fallback is the message's text: what notifications show. It is the plain
// rendering, escaped like everything else.
func fallback(reply bot.Reply) string {
	return cut(plainBold(escape(strings.TrimSpace(plain.Render(reply)))), maxFallback)
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

func header(text string) []slack.Block {
	text = strings.TrimSpace(text)
	h := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, cut(text, maxHeaderText), true, false))
	if len(text) <= maxHeaderText {
		return []slack.Block{h}
	}
	// A title longer than a header can hold is given whole below it.
	return []slack.Block{h, section("*" + escape(text) + "*")}
}

func (rd *renderer) answer(l *blockList, reply bot.Reply, v view, base ref) {
	e := reply.Entry
	l.add(header(e.Title)...)
	if reply.Code != nil {
		rd.codeSection(l, reply.Code, true)
	}
	shown := len(e.Causes)
	if !v.expanded && shown > 1 {
		shown = 1
	}
	// The tail: source, questions, feedback and buttons.
	tail := rd.answerTail(reply, v, base, len(e.Causes) > shown)
	budget := maxBlocks - len(l.blocks) - len(tail) - 1
	for i, c := range e.Causes[:shown] {
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
			break
		}
		budget -= len(cb.blocks)
		l.add(cb.blocks...)
	}
	l.add(tail...)
}

func (rd *renderer) answerTail(reply bot.Reply, v view, base ref, more bool) []slack.Block {
	e := reply.Entry
	var l blockList
	meta := []string{escape(reply.Words.Platform + ": " + e.Platform.Name())}
	if link := sourceLink(e.SourceURL); link != "" {
		meta = append(meta, "*"+escape(reply.Words.Source)+":* "+link)
	}
	l.add(contextBlock("", meta...))
	rd.questions(&l, reply)

	r := base
	r.Entry = e.ID
	r.Open = v.expanded
	if v.verdict != nil {
		r.Verdict, r.Solved = v.verdict.user, v.verdict.solved
	}
	for _, c := range e.Causes {
		r.Causes = append(r.Causes, c.ID)
	}
	value := r.encode()
	var buttons []slack.BlockElement
	if more {
		buttons = append(buttons, button(actionMore,
			rd.w.Get(reply.Lang, "SlackOtherCauses", map[string]any{"N": len(e.Causes) - 1}), value))
	}
	if v.verdict == nil {
		buttons = append(buttons,
			button(actionSolved, ":+1: "+rd.w.Get(reply.Lang, "SlackSolved", nil), value).WithStyle(slack.StylePrimary),
			button(actionNotSolved, ":-1: "+rd.w.Get(reply.Lang, "SlackNotSolved", nil), value))
	}
	if v.share {
		buttons = append(buttons, button(actionShare, rd.w.Get(reply.Lang, "SlackPostToChannel", nil), value))
	}
	if v.verdict != nil {
		id, mark := "SlackFeedbackNotSolved", ":-1:"
		if v.verdict.solved {
			id, mark = "SlackFeedbackSolved", ":white_check_mark:"
		}
		l.add(contextBlock(blockVerdict, mark+" "+rd.w.withUser(reply.Lang, id, v.verdict.user)))
	}
	if len(buttons) > 0 {
		l.add(slack.NewActionBlock(blockAnswerActions, buttons...))
	}
	return l.blocks
}

func (rd *renderer) questions(l *blockList, reply bot.Reply) {
	if len(reply.Questions) == 0 {
		return
	}
	var b strings.Builder
	if reply.Kind != bot.KindClarify {
		b.WriteString("*" + escape(reply.Words.FollowUp) + "*\n")
	}
	for i, q := range reply.Questions {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("• " + mrkdwn(q.Text))
		if len(q.Options) > 0 {
			labels := make([]string, len(q.Options))
			for j, o := range q.Options {
				labels[j] = mrkdwn(o.Label)
			}
			b.WriteString(" _(" + strings.Join(labels, " / ") + ")_")
		}
	}
	l.sections(b.String())
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
		r.Entry, r.N = c.ID, c.N
		label := strconv.Itoa(c.N) + ". " + c.Title
		buttons = append(buttons, button(actionPickPrefix+strconv.Itoa(c.N), label, r.encode()))
	}
	if len(buttons) > 0 {
		l.add(slack.NewActionBlock(blockChoicesActions, buttons...))
	}
	rd.questions(l, reply)
	rd.shareButton(l, reply, base)
}

func (rd *renderer) code(l *blockList, reply bot.Reply, base ref) {
	if c := reply.Code; c != nil {
		l.add(header(c.Title)...)
		rd.codeSection(l, c, false)
	}
	rd.questions(l, reply)
	rd.shareButton(l, reply, base)
}

func (rd *renderer) clarify(l *blockList, reply bot.Reply) {
	if reply.Intro != "" {
		l.sections(mrkdwn(reply.Intro))
	}
	rd.questions(l, reply)
}

func (rd *renderer) shareButton(l *blockList, reply bot.Reply, base ref) {
	if !base.Share {
		return
	}
	l.add(slack.NewActionBlock(blockShareActions,
		button(actionShare, rd.w.Get(reply.Lang, "SlackPostToChannel", nil), base.encode())))
}

// sourceLink returns a mrkdwn link to an https source, named by its host,
// or nothing for anything else.
func sourceLink(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(raw, "<>| \n") {
		return ""
	}
	return "<" + strings.ReplaceAll(raw, "&", "&amp;") + "|" + escape(u.Host) + ">"
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
