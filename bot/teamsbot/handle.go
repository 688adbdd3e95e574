package teamsbot

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/core/activity"
	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// Bounds on what a button's data may carry into the conversation state.
const (
	maxDataID     = 200
	maxDataLabel  = 200
	maxDataCauses = 32
)

// parseSubmit reads the bot's button data from a message's value; ok is
// false for anything else (no value, another app's data). Strings are
// bounded and the language checked.
func parseSubmit(raw json.RawMessage) (submitData, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return submitData{}, false
	}
	var d submitData
	if err := json.Unmarshal(raw, &d); err != nil {
		return submitData{}, false
	}
	switch d.Action {
	case actPick, actAnswer, actSolved, actNotSolved:
	default:
		return submitData{}, false
	}
	if !d.Lang.Valid() {
		d.Lang = ""
	}
	d.Entry = cutBytes(d.Entry, maxDataID)
	d.Question = cutBytes(d.Question, maxDataID)
	d.Option = cutBytes(d.Option, maxDataID)
	d.Label = cutBytes(d.Label, maxDataLabel)
	d.Code = cutBytes(d.Code, 64)
	d.Causes = d.Causes[:min(len(d.Causes), maxDataCauses)]
	for i, c := range d.Causes {
		d.Causes[i] = cutBytes(c, maxDataID)
	}
	d.N = max(d.N, 0)
	if d.Action != actAnswer && d.Entry == "" {
		return submitData{}, false
	}
	return d, true
}

// message is a message activity the bot acts on.
type message struct {
	// text is what the user wrote, the bot's mention removed.
	text string
	// data is the bot's button data the message carries, if any.
	data *submitData
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

// acceptMessage takes a message activity: it decides whether to act,
// claims the activity id so that a redelivery is not answered again, and
// starts the reply. It returns before any connector call.
func (b *Bot) acceptMessage(ctx context.Context, in *inbound) {
	m, ok := classify(in)
	if !ok {
		b.log.Debug("teams message ignored", in.attrs()...)
		return
	}
	if !b.claim(ctx, in) {
		return
	}
	err := b.spawn(func(ctx context.Context) {
		if m.data != nil {
			b.click(ctx, in, *m.data)
			return
		}
		b.answer(ctx, in, m.text)
	})
	if err != nil {
		b.log.Warn("teams message dropped", append(in.attrs(), "err", err)...)
	}
}

// acceptConversationUpdate greets a user or team that added the bot.
func (b *Bot) acceptConversationUpdate(ctx context.Context, in *inbound) {
	added := slices.ContainsFunc(in.MembersAdded, func(m schema.ChannelAccount) bool {
		return m.ID != "" && m.ID == in.Recipient.ID
	})
	if !added || in.Conversation.ID == "" || !b.claim(ctx, in) {
		return
	}
	err := b.spawn(func(ctx context.Context) {
		lang := b.ownLang(ctx, in.user(), in.locale())
		// A new message, not a reply: in a team it starts a thread of its
		// own in the channel the bot was added through.
		b.send(ctx, in, in.Conversation.ID, "", b.render.welcome(lang), b.words.Get(lang, "TeamsWelcomeTitle", nil))
	})
	if err != nil {
		b.log.Warn("teams welcome dropped", append(in.attrs(), "err", err)...)
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

// answer replies to what a user wrote: a text command, or a turn for the
// engine.
func (b *Bot) answer(ctx context.Context, in *inbound, text string) {
	user := in.user()
	if fields := strings.Fields(strings.ToLower(text)); len(fields) > 0 {
		switch {
		case len(fields) == 1 && fields[0] == "help":
			lang := b.ownLang(ctx, user, in.locale())
			b.reply(ctx, in, b.render.welcome(lang), b.words.Get(lang, "TeamsWelcomeTitle", nil))
			return
		case len(fields) <= 2 && fields[0] == "lang":
			b.setLang(ctx, in, fields[1:])
			return
		}
	}
	turn := bot.Turn{Text: text, Lang: b.savedLang(ctx, user), Locale: in.locale(), User: user,
		Conversation: in.conversationKey()}
	reply, err := b.eng.Handle(ctx, turn)
	if err != nil {
		b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
	}
	b.reply(ctx, in, b.render.reply(reply, view{}), summary(reply))
}

// setLang saves or clears the user's reply language ("lang nl", "lang
// auto") and confirms it.
func (b *Bot) setLang(ctx context.Context, in *inbound, args []string) {
	user := in.user()
	say := func(lang kb.Lang, id string) {
		text := b.words.Get(lang, id, nil)
		b.reply(ctx, in, b.render.note(lang, text), text)
	}
	if len(args) == 0 {
		say(b.ownLang(ctx, user, in.locale()), "TeamsLangUsage")
		return
	}
	if args[0] == "auto" || args[0] == "reset" || args[0] == "off" {
		if err := b.prefs.SetLang(ctx, prefKey(user), ""); err != nil {
			b.log.Warn("teams language preference", append(in.attrs(), "err", err)...)
			return
		}
		say(b.ownLang(ctx, user, in.locale()), "TeamsLangCleared")
		return
	}
	lang, ok := kb.LangFromLocale(args[0])
	if !ok {
		say(b.ownLang(ctx, user, in.locale()), "TeamsLangUsage")
		return
	}
	if err := b.prefs.SetLang(ctx, prefKey(user), lang); err != nil {
		b.log.Warn("teams language preference", append(in.attrs(), "err", err)...)
		return
	}
	say(lang, "TeamsLangSet")
}

// click acts on a press of one of the bot's buttons.
func (b *Bot) click(ctx context.Context, in *inbound, d submitData) {
	switch d.Action {
	case actPick:
		b.pick(ctx, in, d)
	case actAnswer:
		b.answerQuestion(ctx, in, d)
	case actSolved, actNotSolved:
		b.judge(ctx, in, d, d.Action == actSolved)
	}
}

// clickLang is the language a click is answered in: the user's saved one,
// else the card's.
func (b *Bot) clickLang(ctx context.Context, in *inbound, d submitData) kb.Lang {
	if l := b.savedLang(ctx, in.user()); l != "" {
		return l
	}
	return d.Lang
}

// pick answers with the candidate the user chose on a choices card.
func (b *Bot) pick(ctx context.Context, in *inbound, d submitData) {
	conv := in.conversationKey()
	st, ok, err := b.store.Conversation(ctx, conv)
	if err != nil {
		b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
	}
	n := 0
	if ok {
		n = slices.Index(st.Choices, d.Entry) + 1
	}
	lang := b.clickLang(ctx, in, d)
	if n == 0 {
		// The conversation expired or moved on: the button says enough to
		// offer the one choice again.
		st = bot.State{Lang: lang, Choices: []string{d.Entry}, Answers: st.Answers}
		if err := b.store.SaveConversation(ctx, conv, st, b.cfg.StateTTL); err != nil {
			b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
			return
		}
		n = 1
	}
	reply, err := b.eng.Handle(ctx, bot.Turn{Text: strconv.Itoa(n), Lang: lang, Locale: in.locale(),
		User: in.user(), Conversation: conv})
	if err != nil {
		b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
	}
	b.reply(ctx, in, b.render.reply(reply, view{}), summary(reply))
}

// answerQuestion records the answer to a follow-up question. Before there
// is an answer (choices, clarify) the engine reads the option's label as
// the user's words, to narrow the candidates down. After one, the answer
// is recorded for that question alone (typing "one user" would answer
// every question "one" fits) and the answer is shown again, its causes
// weighed by what the answers say.
func (b *Bot) answerQuestion(ctx context.Context, in *inbound, d submitData) {
	conv := in.conversationKey()
	lang := b.clickLang(ctx, in, d)
	user := in.user()
	if d.Entry == "" {
		reply, err := b.eng.Handle(ctx, bot.Turn{Text: d.Label, Lang: lang, Locale: in.locale(), User: user, Conversation: conv})
		if err != nil {
			b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
		}
		b.reply(ctx, in, b.render.reply(reply, view{}), summary(reply))
		return
	}
	if d.Question == "" || d.Option == "" {
		return
	}
	st, ok, err := b.store.Conversation(ctx, conv)
	if err != nil {
		b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
		return
	}
	answers := map[string]string{}
	var text string
	if ok && st.Entry == d.Entry {
		maps.Copy(answers, st.Answers)
		text = st.Text
	}
	answers[d.Question] = d.Option
	text = strings.TrimSpace(text + "\n" + d.Label)
	seed := bot.State{Lang: lang, Choices: []string{d.Entry}, Answers: answers, Text: text}
	if err := b.store.SaveConversation(ctx, conv, seed, b.cfg.StateTTL); err != nil {
		b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
		return
	}
	reply, err := b.eng.Handle(ctx, bot.Turn{Text: "1", Lang: lang, Locale: in.locale(), User: user, Conversation: conv})
	if err != nil {
		b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
	}
	if reply.Kind == bot.KindAnswer && reply.Entry != nil {
		// The engine keeps the entry and the answers; the words they add up
		// to are kept too, for the next answer's weighing.
		if next, ok, err := b.store.Conversation(ctx, conv); err == nil && ok && next.Entry == d.Entry {
			next.Text = text
			if err := b.store.SaveConversation(ctx, conv, next, b.cfg.StateTTL); err != nil {
				b.log.Warn("teams conversation state", append(in.attrs(), "err", err)...)
			}
		}
		reply.Notices = append(reply.Notices, b.words.Get(reply.Lang, "AnswerNoted", nil))
	}
	b.reply(ctx, in, b.render.reply(reply, view{}), summary(reply))
}

// judge records a Solved / Not solved verdict and shows it on the card in
// place of the buttons; when the card cannot be updated, a short reply
// says it was recorded.
func (b *Bot) judge(ctx context.Context, in *inbound, d submitData, solved bool) {
	user := in.user()
	cardID := in.ReplyToID
	err := b.feedback.RecordFeedback(ctx, bot.Feedback{Entry: d.Entry, Solved: solved, User: user,
		Message: in.Conversation.ID + ":" + cardID, Lang: d.Lang})
	if err != nil {
		b.log.Warn("teams feedback not recorded", append(in.attrs(), "entry", d.Entry, "err", err)...)
		return
	}
	b.log.Info("teams feedback", append(in.attrs(), "entry", d.Entry, "solved", solved)...)
	name := strings.TrimSpace(in.From.Name)
	if name == "" {
		name = "?"
	}
	v := verdict{name: cutRunes(name, 64), solved: solved}
	lang := d.Lang
	if !lang.Valid() {
		lang = b.cfg.DefaultLang
	}

	var answers map[string]string
	if st, ok, err := b.store.Conversation(ctx, in.conversationKey()); err == nil && ok && st.Entry == d.Entry {
		answers = st.Answers
	}
	reply, err := b.replay(ctx, d, lang, answers)
	if err == nil && cardID != "" {
		c := b.render.reply(reply, view{verdict: &v})
		act := b.outgoing(in, c, summary(reply))
		act.Conversation.ID = in.thread()
		act.ReplyToID = ""
		if b.update(ctx, in.ServiceURL, in.thread(), cardID, act, in.attrs()) == nil {
			return
		}
	} else if err != nil {
		b.log.Warn("teams feedback card not updated", append(in.attrs(), "err", err)...)
	}
	b.reply(ctx, in, b.render.verdictCard(lang, v), b.render.verdictText(lang, v))
}

// replay redoes the answer a card belongs to: the entry, the code it was
// asked with, the causes in the order they were shown, without the
// questions already answered.
func (b *Bot) replay(_ context.Context, d submitData, lang kb.Lang, answers map[string]string) (bot.Reply, error) {
	return b.eng.Answer(bot.Show{Entry: d.Entry, Lang: lang, Code: d.Code, Causes: d.Causes, Answers: answers})
}
