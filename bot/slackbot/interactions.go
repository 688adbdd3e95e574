package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

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

// click is a press of one of the bot's buttons (or a pick in one of its
// menus).
type click struct {
	action      string
	value       string
	user        string
	channel     string
	messageTS   string
	threadTS    string
	ephemeral   bool
	responseURL string
	// turn names the turn for Sessions: set by the worker, not encoded.
	turn string
}

func (k click) attrs() []any {
	return []any{"action", k.action, "channel", k.channel, "user", k.user}
}

// conversation returns the conversation a button continues: the one it
// carries, or else the one its message belongs to (the slash commands'
// for a private message, the direct message, or the thread its message is
// in or starts).
func (k click) conversation(r ref) string {
	if r.Conv != "" {
		return r.Conv
	}
	switch {
	case k.ephemeral:
		return cmdConversation(k.channel, k.user)
	case k.threadTS == "" && isDM(k.channel):
		return "slack:" + k.channel
	}
	return threadKey(k.channel, k.thread())
}

// thread is the thread a reply to the click goes to: the message's thread,
// or a new one under it; in a direct message, outside threads, none.
func (k click) thread() string {
	switch {
	case k.threadTS != "":
		return k.threadTS
	case isDM(k.channel):
		return ""
	}
	return k.messageTS
}

// isDM reports whether channel is a direct message with the bot.
func isDM(channel string) bool { return strings.HasPrefix(channel, "D") }

// validConversation reports whether key is a conversation a click by user
// in channel may continue: one of that channel, and for slash commands
// the user's own.
func validConversation(key, channel, user string) bool {
	switch {
	case key == "slack:"+channel:
		return isDM(channel)
	case strings.HasPrefix(key, "slack:cmd:"):
		return key == cmdConversation(channel, user)
	case strings.HasPrefix(key, "slack:"+channel+":"):
		ts := strings.TrimPrefix(key, "slack:"+channel+":")
		return ts != "" && len(ts) <= 32 && strings.Trim(ts, "0123456789.") == ""
	}
	return false
}

// acceptInteraction queues the work of the bot's button presses; anything
// else (other apps' actions, modals) is ignored.
//
// A replayed request (the same trigger id) is acted on once, and so is a
// double click: the same button of the same message by the same user within
// doubleClick. An error means the request must not be acknowledged (the
// queue is unavailable): Slack then shows the user that it failed.
func (b *Bot) acceptInteraction(ctx context.Context, ic *slack.InteractionCallback) error {
	if ic.Type != slack.InteractionTypeBlockActions {
		return nil
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
		value := a.Value
		if a.Type == slack.ActionType(slack.OptTypeStatic) {
			value = a.SelectedOption.Value
		}
		k := click{action: a.ActionID, value: value, user: ic.User.ID, channel: channel,
			messageTS: ic.Container.MessageTs, threadTS: thread, ephemeral: ic.Container.IsEphemeral,
			responseURL: ic.ResponseURL}
		if k.user == "" || k.channel == "" {
			b.log.Warn("slack interaction without user or channel", k.attrs()...)
			continue
		}
		if k.messageTS != "" && !b.claim(ctx, "slack:press:"+k.channel+":"+k.messageTS+":"+a.ActionID+":"+k.user, doubleClick, k.attrs()) {
			continue
		}
		key := ""
		if ic.TriggerID != "" {
			key = "slack:click:" + ic.TriggerID + ":" + a.ActionID
		}
		t := task{Click: &k}
		if strings.HasPrefix(a.ActionID, "enroll_ticket_") {
			t.Card = &ic.Message.Blocks
		}
		if _, err := b.enqueue(ctx, key, b.cfg.DedupeTTL, k.user, t, k.attrs()); err != nil {
			return err
		}
	}
	return nil
}

// doubleClick is how long a second press of the same button counts as
// the same press.
const doubleClick = 3 * time.Second

// click maps a button to the engine input it stands for and answers it
// through Sessions, in the conversation the button belongs to.
func (b *Bot) click(ctx context.Context, k click) {
	r, err := decodeRef(k.value, k.action)
	if err != nil {
		b.log.Warn("slack interaction", append(k.attrs(), "err", err)...)
		return
	}
	conv := k.conversation(r)
	if !validConversation(conv, k.channel, k.user) {
		b.log.Warn("slack interaction for another conversation", append(k.attrs(), "conversation", conv)...)
		return
	}
	if r.Act == actShare {
		b.share(ctx, k, r, conv)
		return
	}
	out := b.sessions.Handle(ctx, bot.Turn{ID: k.turn, Key: conv, User: sessionUser(k.user), Input: r.input(),
		Message: k.channel + ":" + k.messageTS})
	reply := out.Reply
	v := view{conv: r.Conv}
	if k.ephemeral {
		v = view{conv: conv, echo: r.Text, asker: k.user, private: true, share: shareable(reply)}
	}
	switch {
	case reply.Kind == bot.KindLimited:
		b.tell(ctx, k, b.render.render(reply, view{}))
	case r.Act == bot.ActSolved:
		b.solved(ctx, k, reply)
	case replaces(r, k.action):
		b.replace(ctx, k, b.render.render(reply, v))
	default:
		b.reply(ctx, k, b.render.render(reply, v))
	}
}

// replaces reports whether a click's reply takes the place of the message
// the button was on (a candidate picked from choices, every cause of an
// answer, the language switched) rather than continuing below it.
func replaces(r ref, actionID string) bool {
	switch r.Act {
	case bot.ActPick:
		return !strings.HasPrefix(actionID, actionRelatedPrefix)
	case bot.ActAllCauses, bot.ActLang, bot.ActShow:
		return true
	}
	return false
}

// solved acknowledges a verdict Sessions recorded: the answer gets the
// reaction everyone sees, the user the thanks.
func (b *Bot) solved(ctx context.Context, k click, reply bot.Reply) {
	if !k.ephemeral && k.messageTS != "" {
		b.react(ctx, k.channel, k.messageTS, k.attrs())
	}
	b.tell(ctx, k, b.render.render(reply, view{}))
}

// share posts the private reply of a slash command to the channel for
// everyone, as the conversation stands, and removes the private one. The
// conversation continues in the new message's thread.
func (b *Bot) share(ctx context.Context, k click, r ref, conv string) {
	in := r.input()
	in.Action = bot.ActShow
	out := b.sessions.Handle(ctx, bot.Turn{Key: conv, User: sessionUser(k.user), Input: in})
	reply := out.Reply
	if reply.Kind == bot.KindLimited || !reply.Speaks() {
		// Over the limit, or nothing left to show (the conversation
		// expired): the user alone hears it.
		b.replace(ctx, k, b.render.render(reply, view{}))
		return
	}
	msg := b.render.render(reply, view{echo: r.Text, asker: k.user})
	ts, err := b.post(ctx, k.channel, "", msg, k.attrs())
	switch {
	case err == nil:
		if err := b.sessions.Fork(ctx, conv, threadKey(k.channel, ts)); err != nil {
			b.log.Warn("slack conversation not forked", append(k.attrs(), "err", err)...)
		}
	case k.responseURL != "":
		// The bot is not in the channel: a response_url posts for it. Its
		// thread starts a conversation of its own.
		err = b.respond(ctx, k.responseURL, &slack.WebhookMessage{ResponseType: slack.ResponseTypeInChannel,
			Text: msg.Text, Blocks: &slack.Blocks{BlockSet: msg.Blocks}}, k.attrs())
	}
	if err != nil {
		_ = b.ephemeral(ctx, k.responseURL, k.channel, k.user,
			note(b.words.Get(reply.Lang, "SlackShareFailed", nil)), false, k.attrs())
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

// reply continues the conversation below the message the button was on:
// in its thread, or for a private message with another private one.
func (b *Bot) reply(ctx context.Context, k click, msg message) {
	if k.ephemeral {
		_ = b.ephemeral(ctx, k.responseURL, k.channel, k.user, msg, false, k.attrs())
		return
	}
	_, _ = b.post(ctx, k.channel, k.thread(), msg, k.attrs())
}

// tell shows msg to the user who clicked alone, where they clicked.
func (b *Bot) tell(ctx context.Context, k click, msg message) {
	if k.ephemeral {
		_ = b.ephemeral(ctx, k.responseURL, k.channel, k.user, msg, false, k.attrs())
		return
	}
	_ = b.call(ctx, "chat.postEphemeral", k.attrs(), func(ctx context.Context) error {
		opts := msgOptions(msg)
		if ts := k.thread(); ts != "" {
			opts = append(opts, slack.MsgOptionTS(ts))
		}
		_, err := b.api.PostEphemeralContext(ctx, k.channel, k.user, opts...)
		return err
	})
}
