package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
)

// parseInteractionForm parses an interactivity request body: a form whose
// payload field is the interaction as JSON.
func parseInteractionForm(body []byte) (*slack.InteractionCallback, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parse interaction form: %w", err)
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, errors.New("parse interaction form: no payload")
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &ic); err != nil {
		return nil, fmt.Errorf("parse interaction payload: %w", err)
	}
	return &ic, nil
}

// click is a press of one of the bot's buttons.
type click struct {
	action      string
	value       string
	user        string
	channel     string
	messageTS   string
	threadTS    string
	ephemeral   bool
	responseURL string
}

func (k click) attrs() []any {
	return []any{"action", k.action, "channel", k.channel, "user", k.user}
}

// conversation returns the conversation a button continues: the one it
// carries, or the thread its message is in (or starts).
func (k click) conversation(r ref) string {
	if r.Conv != "" {
		return r.Conv
	}
	ts := k.threadTS
	if ts == "" {
		ts = k.messageTS
	}
	return threadKey(k.channel, ts)
}

// acceptInteraction starts the work of the bot's button presses; anything
// else (other apps' actions, modals) is ignored.
func (b *Bot) acceptInteraction(ic *slack.InteractionCallback) {
	if ic.Type != slack.InteractionTypeBlockActions {
		return
	}
	channel := ic.Channel.ID
	if channel == "" {
		channel = ic.Container.ChannelID
	}
	thread := ic.Container.ThreadTs
	if thread == "" {
		thread = ic.Message.ThreadTimestamp
	}
	for _, a := range ic.ActionCallback.BlockActions {
		if a == nil || !strings.HasPrefix(a.ActionID, "enroll_") {
			continue
		}
		k := click{action: a.ActionID, value: a.Value, user: ic.User.ID, channel: channel,
			messageTS: ic.Container.MessageTs, threadTS: thread, ephemeral: ic.Container.IsEphemeral,
			responseURL: ic.ResponseURL}
		if k.user == "" || k.channel == "" {
			b.log.Warn("slack interaction without user or channel", k.attrs()...)
			continue
		}
		if err := b.spawn(func(ctx context.Context) { b.click(ctx, k) }); err != nil {
			b.log.Warn("slack interaction dropped", append(k.attrs(), "err", err)...)
		}
	}
}

func (b *Bot) click(ctx context.Context, k click) {
	r, err := decodeRef(k.value)
	if err != nil {
		b.log.Warn("slack interaction", append(k.attrs(), "err", err)...)
		return
	}
	switch {
	case strings.HasPrefix(k.action, actionPickPrefix):
		b.pick(ctx, k, r)
	case k.action == actionSolved || k.action == actionNotSolved:
		b.judge(ctx, k, r, k.action == actionSolved)
	case k.action == actionMore:
		b.more(ctx, k, r)
	case k.action == actionShare:
		b.share(ctx, k, r)
	}
}

// viewOf returns how the message a button was on was shown.
func viewOf(r ref) view {
	v := view{conv: r.Conv, echo: r.Text, asker: r.Asker, share: r.Share, expanded: r.Open}
	if r.Verdict != "" {
		v.verdict = &verdict{user: r.Verdict, solved: r.Solved}
	}
	return v
}

// pick answers with the candidate the user chose, in place of the choices.
func (b *Bot) pick(ctx context.Context, k click, r ref) {
	if r.Entry == "" {
		return
	}
	conv := k.conversation(r)
	st, ok, err := b.store.Conversation(ctx, conv)
	if err != nil {
		b.log.Warn("slack conversation state", append(k.attrs(), "err", err)...)
	}
	n := 0
	if ok {
		for i, id := range st.Choices {
			if id == r.Entry {
				n = i + 1
				break
			}
		}
	}
	if n == 0 {
		// The conversation expired or moved on: the button says enough to
		// offer the one choice again.
		st = bot.State{Lang: r.Lang, Choices: []string{r.Entry}, Answers: st.Answers}
		if err := b.store.SaveConversation(ctx, conv, st, b.cfg.StateTTL); err != nil {
			b.log.Warn("slack conversation state", append(k.attrs(), "err", err)...)
			return
		}
		n = 1
	}
	reply, err := b.eng.Handle(ctx, bot.Turn{Text: strconv.Itoa(n), Lang: r.Lang, User: k.user, Conversation: conv})
	if err != nil {
		b.log.Warn("slack conversation state", append(k.attrs(), "err", err)...)
	}
	v := viewOf(r)
	v.expanded, v.verdict = false, nil
	b.replace(ctx, k, b.render.render(reply, v))
}

// judge records a Solved / Not solved verdict and shows it in place of the
// buttons.
func (b *Bot) judge(ctx context.Context, k click, r ref, solved bool) {
	if r.Entry == "" {
		return
	}
	err := b.feedback.RecordFeedback(ctx, bot.Feedback{Entry: r.Entry, Solved: solved, User: k.user,
		Message: k.channel + ":" + k.messageTS, Lang: r.Lang})
	if err != nil {
		b.log.Warn("slack feedback not recorded", append(k.attrs(), "entry", r.Entry, "err", err)...)
		return
	}
	b.log.Info("slack feedback", append(k.attrs(), "entry", r.Entry, "solved", solved)...)
	reply, err := b.replay(ctx, r, k.user)
	if err != nil {
		b.log.Warn("slack interaction", append(k.attrs(), "err", err)...)
		return
	}
	v := viewOf(r)
	v.verdict = &verdict{user: k.user, solved: solved}
	b.replace(ctx, k, b.render.render(reply, v))
}

// more shows every cause of the answer.
func (b *Bot) more(ctx context.Context, k click, r ref) {
	reply, err := b.replay(ctx, r, k.user)
	if err != nil {
		b.log.Warn("slack interaction", append(k.attrs(), "err", err)...)
		return
	}
	v := viewOf(r)
	v.expanded = true
	b.replace(ctx, k, b.render.render(reply, v))
}

// share posts a private reply to the channel for everyone, and removes
// the private one. Replies in the new message's thread continue it.
func (b *Bot) share(ctx context.Context, k click, r ref) {
	var reply bot.Reply
	var st bot.State
	if r.Entry != "" {
		var err error
		reply, err = b.replay(ctx, r, k.user)
		if err != nil {
			b.log.Warn("slack interaction", append(k.attrs(), "err", err)...)
			return
		}
		st = bot.State{Lang: reply.Lang, Entry: reply.Entry.ID}
	} else {
		key := scratchKey()
		var err error
		reply, err = b.eng.Handle(ctx, bot.Turn{Text: r.Text, Lang: r.Lang, User: k.user, Conversation: key})
		if err != nil {
			b.log.Warn("slack conversation state", append(k.attrs(), "err", err)...)
		}
		if s, ok, err := b.store.Conversation(ctx, key); err == nil && ok {
			st = s
		}
	}
	asker := r.Asker
	if asker == "" {
		asker = k.user
	}
	msg := b.render.render(reply, view{echo: r.Text, asker: asker})
	ts, err := b.post(ctx, k.channel, "", msg, k.attrs())
	switch {
	case err == nil:
		if err := b.store.SaveConversation(ctx, threadKey(k.channel, ts), st, b.cfg.StateTTL); err != nil {
			b.log.Warn("slack conversation state", append(k.attrs(), "err", err)...)
		}
	case k.responseURL != "":
		// The bot is not in the channel: a response_url posts for it.
		err = b.respond(ctx, k.responseURL, &slack.WebhookMessage{ResponseType: slack.ResponseTypeInChannel,
			Text: msg.Text, Blocks: &slack.Blocks{BlockSet: msg.Blocks}}, k.attrs())
	}
	if err != nil {
		lang := reply.Lang
		text := escape(b.words.Get(lang, "SlackShareFailed", nil))
		_ = b.ephemeral(ctx, k.responseURL, k.channel, k.user, message{Text: text, Blocks: []slack.Block{section(text)}}, false, k.attrs())
		return
	}
	if k.responseURL != "" && k.ephemeral {
		_ = b.respond(ctx, k.responseURL, &slack.WebhookMessage{DeleteOriginal: true}, k.attrs())
	}
}

// replace puts msg in place of the message the button was on.
func (b *Bot) replace(ctx context.Context, k click, msg message) {
	switch {
	case k.responseURL != "":
		wm := &slack.WebhookMessage{Text: msg.Text, Blocks: &slack.Blocks{BlockSet: msg.Blocks}, ReplaceOriginal: true}
		if k.ephemeral {
			wm.ResponseType = slack.ResponseTypeEphemeral
		}
		_ = b.respond(ctx, k.responseURL, wm, k.attrs())
	case !k.ephemeral && k.messageTS != "":
		_ = b.call(ctx, "chat.update", k.attrs(), func(ctx context.Context) error {
			_, _, _, err := b.api.UpdateMessageContext(ctx, k.channel, k.messageTS, msgOptions(msg)...)
			return err
		})
	default:
		_ = b.ephemeral(ctx, "", k.channel, k.user, msg, false, k.attrs())
	}
}

// replay redoes the answer a button belongs to: the entry, the code it was
// asked with, the causes in the order they were shown.
func (b *Bot) replay(_ context.Context, r ref, _ string) (bot.Reply, error) {
	if r.Entry == "" {
		return bot.Reply{}, errors.New("replay: the button names no entry")
	}
	return b.eng.Answer(bot.Show{Entry: r.Entry, Lang: r.Lang, Code: r.Code, Causes: r.Causes})
}
