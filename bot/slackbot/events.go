package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
)

// envelope is the part of an Events API delivery the bot reads. Parsing
// it is one json.Unmarshal into fixed fields; the text stays as Slack sent
// it, bounded by the request body's cap.
type envelope struct {
	Type           string          `json:"type"`
	Challenge      string          `json:"challenge"`
	TeamID         string          `json:"team_id"`
	APIAppID       string          `json:"api_app_id"`
	EventID        string          `json:"event_id"`
	Authorizations []authorization `json:"authorizations"`
	Event          event           `json:"event"`
}

type authorization struct {
	UserID string `json:"user_id"`
	IsBot  bool   `json:"is_bot"`
}

// event is a message or app_mention event.
type event struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type"`
	User        string `json:"user"`
	BotID       string `json:"bot_id"`
	Text        string `json:"text"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts"`
	Hidden      bool   `json:"hidden"`
}

// The envelope types the Events API sends.
const (
	typeURLVerification = "url_verification"
	typeEventCallback   = "event_callback"
)

// parseEnvelope parses an Events API request body or Socket Mode payload.
func parseEnvelope(body []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return envelope{}, fmt.Errorf("parse events payload: %w", err)
	}
	if env.Type == "" {
		return envelope{}, errors.New("parse events payload: no type")
	}
	return env, nil
}

// mode is where a message was written, which decides how the bot answers.
type mode int

const (
	// modeChannel: a message in a channel the bot is in; answered in a
	// thread only when it is an enrollment error.
	modeChannel mode = iota + 1
	// modeMention: the bot was mentioned; always answered, in a thread.
	modeMention
	// modeDM: a direct message; always answered.
	modeDM
	// modeExperts: a reply in a ticket's thread in the experts channel;
	// relayed to the ticket's user, never answered.
	modeExperts
)

// job is a message to answer.
type job struct {
	mode     mode
	eventID  string
	team     string
	channel  string
	user     string
	text     string
	ts       string
	threadTS string
	// turn names the turn for Sessions: set by the worker, not encoded.
	turn string
}

func (j job) attrs() []any {
	return []any{"event_id", j.eventID, "channel", j.channel}
}

// conversation is the key the engine keeps the job's conversation under:
// the thread, or for a direct message outside threads the whole chat.
func (j job) conversation() string {
	if j.mode == modeDM && j.threadTS == "" {
		return "slack:" + j.channel
	}
	return threadKey(j.channel, j.replyThread())
}

func threadKey(channel, ts string) string { return "slack:" + channel + ":" + ts }

// replyThread is the thread the reply goes to: the message's thread, or a
// new one under it; direct messages are answered in place.
func (j job) replyThread() string {
	if j.threadTS != "" {
		return j.threadTS
	}
	if j.mode == modeDM {
		return ""
	}
	return j.ts
}

// classify decides whether an event is one to answer. It does no I/O: it
// runs before the delivery is acknowledged.
func (b *Bot) classify(env envelope) (job, bool) {
	e := env.Event
	// Bot messages (the bot's own included), edits, deletions, joins and
	// every other subtype are not questions; answering them could loop.
	if e.Subtype != "" || e.BotID != "" || e.Hidden || e.User == "" || e.Channel == "" || e.TS == "" {
		return job{}, false
	}
	self := b.cfg.BotUserID
	if self == "" {
		for _, a := range env.Authorizations {
			if a.IsBot && a.UserID != "" {
				self = a.UserID
				break
			}
		}
	}
	if self != "" && e.User == self {
		return job{}, false
	}
	j := job{eventID: env.EventID, team: env.TeamID, channel: e.Channel, user: e.User,
		text: e.Text, ts: e.TS, threadTS: e.ThreadTS}
	if x := b.cfg.Experts; x != nil && e.Channel == x.channel {
		// The experts talk among themselves and to users through ticket
		// threads; the bot answers none of it.
		// A mention arrives as a message too: relayed once, as the message.
		if e.Type != "message" || e.ThreadTS == "" || e.ThreadTS == e.TS {
			return job{}, false
		}
		j.mode = modeExperts
		return j, true
	}
	switch e.Type {
	case "app_mention":
		j.mode = modeMention
	case "message":
		switch e.ChannelType {
		case "im":
			j.mode = modeDM
		case "channel", "group", "mpim":
			// A mention also arrives as app_mention, which answers it.
			if self != "" && strings.Contains(e.Text, "<@"+self) {
				return job{}, false
			}
			j.mode = modeChannel
		default:
			return job{}, false
		}
	default:
		return job{}, false
	}
	return j, true
}

// acceptEvent takes an Events API delivery: it decides whether to answer,
// and queues the reply under the event id's claim, so that a redelivery is
// not answered again. It returns before any Web API call.
//
// It returns an error when the job cannot be recorded (the shared store
// is down, the queue is full, the bot is stopping): the delivery is then
// not acknowledged, and Slack delivers it again, when the store may be back
// or to another replica, instead of it being answered now and again at the
// retry, or not at all.
func (b *Bot) acceptEvent(ctx context.Context, env envelope, retry int) error {
	if env.Type != typeEventCallback {
		b.log.Info("slack events payload ignored", "type", env.Type)
		return nil
	}
	j, ok := b.classify(env)
	if !ok {
		return nil
	}
	key := "slack:event:" + env.TeamID + ":" + env.EventID
	if env.EventID == "" {
		key = "slack:message:" + j.channel + ":" + j.ts
	}
	_, err := b.enqueue(ctx, key, b.cfg.DedupeTTL, j.user, task{Message: &j}, append(j.attrs(), "retry", retry))
	return err
}

// answer replies to a message: one turn through Sessions, with the user's
// Slack locale looked up first (cached), so that the engine runs once. In
// a channel the turn is quiet: only a reply worth hearing is posted (or a
// reaction put on thanks), and chatter leaves no trace.
func (b *Bot) answer(ctx context.Context, j job) {
	if j.mode == modeExperts {
		b.relayToUser(ctx, j)
		return
	}
	turn := bot.Turn{
		ID:    j.turn,
		Key:   j.conversation(),
		User:  sessionUser(j.user),
		Input: bot.Input{Text: j.text, Locale: b.locale(ctx, j.user)},
		Quiet: j.mode == modeChannel,
	}
	out := b.sessions.Handle(ctx, turn)
	switch {
	case out.Post:
		b.deliver(ctx, j, turn.Key, out.Reply)
	case out.React:
		b.react(ctx, j.channel, j.ts, j.attrs())
	}
}

// deliver posts the reply to a message, and in channels marks a message
// the bot diagnosed as answered.
func (b *Bot) deliver(ctx context.Context, j job, conv string, reply bot.Reply) {
	msg := b.render.render(reply, view{conv: conv})
	if _, err := b.post(ctx, j.channel, j.replyThread(), msg, j.attrs()); err != nil {
		return
	}
	if j.mode != modeDM && diagnosis(reply.Kind) {
		b.react(ctx, j.channel, j.ts, j.attrs())
	}
}

// diagnosis reports whether a reply of kind places the problem: an answer,
// choices or a recognized code.
func diagnosis(k bot.Kind) bool {
	return k == bot.KindAnswer || k == bot.KindChoices || k == bot.KindCode
}

// claim records key for ttl and reports whether this delivery is the first
// with it; a repeat is counted and logged with attrs.
func (b *Bot) claim(ctx context.Context, key string, ttl time.Duration, attrs []any) bool {
	first, err := delivery.Claim(ctx, b.dedupe, key, ttl)
	if err != nil {
		b.log.Warn("slack dedupe failed", append(attrs, "err", err)...)
	}
	if !first {
		b.cfg.Observer.DedupeHit("slack")
		b.log.Info("slack delivery already taken", append(attrs, "key", key)...)
	}
	return first
}
