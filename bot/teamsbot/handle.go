package teamsbot

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/infracloudio/msbotbuilder-go/core/activity"
	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/queue"
	"github.com/enrollbot/enrollbot/kb"
)

// maxDataID bounds what a button's data may carry into a turn: an entry,
// question or option id.
const maxDataID = 200

// legacyActions maps the actions of cards sent before the buttons carried
// the engine's inputs, so that a click on an old card still works.
var legacyActions = map[string]bot.Action{"answer": bot.ActChoose, "not-solved": bot.ActNotSolved}

// parseSubmit reads the bot's button data from a message's value; ok is
// false for anything else (no value, another app's data, an action the
// engine does not know, an action without what it needs). Strings are
// bounded and the language checked. A checklist answer's option is the
// button's own, or the one picked in the question's choice set, which
// Teams sends along in the same value.
func parseSubmit(raw json.RawMessage) (submitData, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return submitData{}, false
	}
	var d submitData
	if err := json.Unmarshal(raw, &d); err != nil {
		return submitData{}, false
	}
	if a, ok := legacyActions[d.Action]; ok {
		d.Action = string(a)
	}
	if !slices.Contains(bot.Actions, bot.Action(d.Action)) {
		return submitData{}, false
	}
	if !d.Lang.Valid() {
		d.Lang = ""
	}
	d.Entry = cutBytes(d.Entry, maxDataID)
	d.Question = cutBytes(d.Question, maxDataID)
	d.Option = cutBytes(d.Option, maxDataID)
	switch bot.Action(d.Action) {
	case bot.ActPick, bot.ActSolved, bot.ActNotSolved:
		if d.Entry == "" {
			return submitData{}, false
		}
	case bot.ActChoose:
		if d.Question == "" {
			return submitData{}, false
		}
		if d.Option == "" {
			var inputs map[string]json.RawMessage
			if json.Unmarshal(raw, &inputs) == nil {
				var o string
				if json.Unmarshal(inputs[optionInput(d.Question)], &o) == nil {
					d.Option = cutBytes(o, maxDataID)
				}
			}
		}
	case bot.ActLang:
		if d.Lang == "" {
			return submitData{}, false
		}
	}
	return d, true
}

// input is the engine input a button stands for. A click has no words to
// tell its language by: the card's language stands in for the client's
// locale, so that a click on a card whose conversation expired is
// answered in the language the user was reading (the conversation's own
// language, or a saved preference, still comes first).
func (d submitData) input(locale string) bot.Input {
	in := bot.Input{Action: bot.Action(d.Action), Entry: d.Entry, Question: d.Question, Option: d.Option, Locale: locale}
	switch {
	case in.Action == bot.ActLang:
		in.Lang = d.Lang
	case d.Lang != "":
		in.Locale = string(d.Lang)
	}
	return in
}

// message is a message activity the bot acts on.
type message struct {
	// text is what the user wrote, the bot's mention removed.
	text string
	// data is the bot's button data the message carries, if any.
	data *submitData
	// ticket is a press of the experts' card, if it is one.
	ticket *submitData
}

// classify decides whether a message is one to act on. It does no I/O: it
// runs before the activity is acknowledged.
func classify(in *inbound) (message, bool) {
	if in.fromSelf() || in.Conversation.ID == "" || in.ServiceURL == "" {
		return message{}, false
	}
	sc := in.scope()
	if sc == 0 {
		return message{}, false
	}
	if d, ok := parseTicketSubmit(in.Value); ok {
		return message{ticket: &d}, true
	}
	// A button on one of the bot's cards: the click is addressed to the
	// bot wherever the card is.
	if d, ok := parseSubmit(in.Value); ok {
		return message{data: &d}, true
	}
	// In channels and group chats the bot speaks only when spoken to.
	if sc != scopePersonal && !in.mentionsBot() {
		return message{}, false
	}
	return message{text: in.cleanText()}, true
}

// acceptMessage takes a message activity: it decides whether to act, and
// queues the reply under the activity's claim, so that a redelivery is
// not answered again. It returns before any connector call; an error means
// the activity must not be acknowledged (the queue is unavailable).
func (b *Bot) acceptMessage(ctx context.Context, in *inbound) error {
	if _, ok := classify(in); !ok {
		b.log.Debug("teams message ignored", in.attrs()...)
		return nil
	}
	return b.enqueue(ctx, in, taskMessage)
}

// acceptConversationUpdate queues a welcome for a user or team that added
// the bot.
func (b *Bot) acceptConversationUpdate(ctx context.Context, in *inbound) error {
	added := slices.ContainsFunc(in.MembersAdded, func(m schema.ChannelAccount) bool {
		return m.ID != "" && m.ID == in.Recipient.ID
	})
	if !added || in.Conversation.ID == "" {
		return nil
	}
	return b.enqueue(ctx, in, taskWelcome)
}

// work does a task the queue hands over: the activity as accepted, looked
// at again (classify is pure). The job's id names the turn, so that an
// activity worked twice is not taken twice.
func (b *Bot) work(ctx context.Context, j queue.Job) {
	var t task
	if err := json.Unmarshal(j.Body, &t); err != nil || t.Activity == nil {
		b.log.Warn("teams task unreadable", "job", j.ID, "err", err)
		return
	}
	in := t.Activity
	in.turn = "teams:" + j.ID
	switch t.Kind {
	case taskWelcome:
		lang := b.sessions.Lang(ctx, in.sessionUser(), in.locale())
		// A new message, not a reply: in a team it starts a thread of its
		// own in the channel the bot was added through.
		b.send(ctx, in, in.Conversation.ID, "", b.render.welcome(lang), b.words.Get(lang, "TeamsWelcomeTitle", nil))
	case taskMessage:
		m, ok := classify(in)
		switch {
		case !ok:
		case m.ticket != nil:
			b.ticketClick(ctx, in, *m.ticket)
		case m.data != nil:
			b.click(ctx, in, *m.data)
		default:
			b.answer(ctx, in, m.text)
		}
	}
}

// send posts a card to conv, as a reply to replyTo when set.
func (b *Bot) send(ctx context.Context, in *inbound, conv, replyTo string, c card, summary string) {
	act := b.outgoing(in, c, summary)
	act.Conversation.ID = conv
	act.ReplyToID = replyTo
	_ = b.post(ctx, in.ServiceURL, conv, replyTo, act, in.attrs())
}

// reply posts a card in answer to in: in a channel, in its thread.
func (b *Bot) reply(ctx context.Context, in *inbound, c card, summary string) {
	b.send(ctx, in, in.thread(), in.ID, c, summary)
}

// outgoing returns a message activity from the bot to in's sender, in
// in's conversation, holding c.
func (b *Bot) outgoing(in *inbound, c card, summary string) schema.Activity {
	act := schema.Activity{
		Type:        schema.Message,
		Summary:     summary,
		Locale:      c.Lang,
		Attachments: []schema.Attachment{attachment(c)},
	}
	return activity.ApplyConversationReference(act, activity.GetCoversationReference(in.schemaActivity()), false)
}

// answer replies to what a user wrote: the language command, or a turn
// for the engine (greetings and "help" included).
func (b *Bot) answer(ctx context.Context, in *inbound, text string) {
	if in.scope() == scopeChannel && b.cfg.Experts != nil {
		if on, ok := expertsCommand(text); ok {
			b.registerExperts(ctx, in, on)
			return
		}
		if b.isExpertsChannel(ctx, in) {
			// Experts speak to users through tickets' threads; the bot
			// answers nothing there.
			b.relayToUser(ctx, in, text)
			return
		}
	}
	if lang, clear, ok := bot.ParseLangCommand(text); ok {
		b.langCommand(ctx, in, lang, clear)
		return
	}
	b.turn(ctx, in, bot.Input{Text: text, Locale: in.locale()}, view{})
}

// langCommand acts on "lang nl" (through the engine, which shows the
// current answer again in that language, and Sessions, which saves the
// choice), "lang auto" (the choice cleared) and "lang" with anything else
// (how to use it).
func (b *Bot) langCommand(ctx context.Context, in *inbound, lang kb.Lang, clear bool) {
	user := in.sessionUser()
	switch {
	case lang != "":
		b.turn(ctx, in, bot.Input{Action: bot.ActLang, Lang: lang, Locale: in.locale()}, view{})
	case clear:
		if err := b.sessions.ClearLang(ctx, user, in.conversationKey()); err != nil {
			b.log.Warn("teams language preference", append(in.attrs(), "err", err)...)
			return
		}
		b.note(ctx, in, b.sessions.Lang(ctx, user, in.locale()), "LangCleared")
	default:
		b.note(ctx, in, b.sessions.Lang(ctx, user, in.locale()), "LangUsage")
	}
}

// note replies with one of the bot's own sentences.
func (b *Bot) note(ctx context.Context, in *inbound, lang kb.Lang, id string) {
	text := b.words.Get(lang, id, nil)
	b.reply(ctx, in, b.render.note(lang, text), cut(text, maxSummary))
}

// click acts on a press of one of the bot's buttons: the input it stands
// for goes through Sessions like a typed turn, and the reply (an answer, a
// short thanks for a verdict, the next cause) is posted in the thread.
func (b *Bot) click(ctx context.Context, in *inbound, d submitData) {
	if bot.Action(d.Action) == bot.ActChoose && d.Option == "" {
		// Submitted with nothing picked in the choice set.
		b.log.Debug("teams answer button without an option", append(in.attrs(), "question", d.Question)...)
		return
	}
	v := view{}
	switch bot.Action(d.Action) {
	case bot.ActAllCauses, bot.ActOtherCauses:
		v.expand = true
	}
	b.turn(ctx, in, d.input(in.locale()), v)
}

// turn runs one input through Sessions and posts the reply it returns.
// The card a button was on names the verdict given on it, so that a
// user's later verdict on the same card replaces the earlier one.
func (b *Bot) turn(ctx context.Context, in *inbound, input bot.Input, v view) {
	t := bot.Turn{ID: in.turn, Key: in.conversationKey(), User: in.sessionUser(), Input: input, Reach: in.ServiceURL, UserName: in.From.Name,
		Link: in.deepLink()}
	if input.Action != bot.ActMessage && in.ReplyToID != "" {
		t.Message = "teams:" + in.Conversation.ID + ":" + in.ReplyToID
	}
	out := b.sessions.Handle(ctx, t)
	if r := out.Reply; r.Verdict != nil {
		b.log.Info("teams feedback", append(in.attrs(), "entry", r.Verdict.Entry, "solved", r.Verdict.Solved)...)
	}
	if !out.Post {
		return
	}
	b.reply(ctx, in, b.render.reply(out.Reply, v), summary(out.Reply))
}
