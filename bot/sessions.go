package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/enrollbot/enrollbot/kb"
)

// DefaultStateTTL is how long a conversation is remembered between turns.
const DefaultStateTTL = 30 * time.Minute

// SessionsConfig wires Sessions. Only Engine is required: a nil store
// remembers nothing, a nil limiter limits nothing, and so on.
type SessionsConfig struct {
	Engine *Engine
	// Store keeps conversations between turns.
	Store Store
	// Preferences keeps users' language choices.
	Preferences Preferences
	// Limiter bounds turns per user.
	Limiter RateLimiter
	// Starter, when set, reads a turn's saved language, rate-limit count
	// and conversation in one go instead of asking Preferences, Limiter
	// and Store one after the other; it must read the same data they keep
	// (redisstore.Store is all four).
	Starter TurnStarter
	// Unanswered records what got a clarify reply.
	Unanswered UnansweredLog
	// Feedback records verdicts on answers.
	Feedback FeedbackStore
	// Desk hands conversations to people; nil: the user gets the summary
	// to copy and how to reach IT.
	Desk Desk
	// Observer is told every reply given, for metrics.
	Observer Observer
	// StateTTL bounds how long a conversation is remembered.
	StateTTL time.Duration
	Logger   *slog.Logger
}

// Sessions is the one layer around the engine that touches the world: it
// loads and saves conversation state, counts the rate limit once per turn,
// saves language preferences, records verdicts and unanswered questions,
// and observes metrics. It is safe for concurrent use.
type Sessions struct {
	eng   *Engine
	store Store
	prefs Preferences
	limit RateLimiter
	start TurnStarter
	unans UnansweredLog
	fb    FeedbackStore
	desk  Desk
	obs   Observer
	ttl   time.Duration
	log   *slog.Logger
}

// NewSessions checks cfg and returns Sessions.
func NewSessions(cfg SessionsConfig) (*Sessions, error) {
	if cfg.Engine == nil {
		return nil, fmt.Errorf("bot: sessions need an engine")
	}
	s := &Sessions{eng: cfg.Engine, store: cfg.Store, prefs: cfg.Preferences, limit: cfg.Limiter, start: cfg.Starter,
		unans: cfg.Unanswered, fb: cfg.Feedback, desk: cfg.Desk, obs: cfg.Observer, ttl: cfg.StateTTL, log: cfg.Logger}
	if s.desk != nil {
		// The engine asks to confirm a hand-off only when there is someone
		// to hand it to.
		s.eng = s.eng.WithDesk()
	}
	if s.obs == nil {
		s.obs = NopObserver{}
	}
	if s.ttl == 0 {
		s.ttl = DefaultStateTTL
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Engine returns the engine the sessions run.
func (s *Sessions) Engine() *Engine { return s.eng }

// Turn is one input of a user in a conversation.
type Turn struct {
	// ID names the delivery the turn answers (the reply queue's job). A
	// turn whose ID is the conversation's last saved turn was taken before
	// (its worker died after saving it, before its reply went out): the
	// conversation's current reply is shown, and the turn is not taken
	// twice. Empty: every turn is new.
	ID string
	// Key names the conversation (a thread, a chat); turns with the same key
	// continue each other. Empty: a one-off that remembers nothing.
	Key string
	// User identifies the user across conversations, channel-scoped
	// ("slack:U123"): the rate limit, the language preference and
	// verdicts are theirs.
	User  string
	Input Input
	// Quiet marks a turn not addressed to the bot (a message in a channel):
	// it is answered only when the reply speaks (Reply.Speaks) or is a
	// reaction; otherwise it leaves no trace but the rate limit's count (no
	// state, no log, no metric).
	Quiet bool
	// UserName is the user's display name where the adapter knows it
	// (Teams), for people the conversation is handed to.
	UserName string
	// Link opens the conversation for people it is handed to, where the
	// platform has one (a Teams channel thread's deep link); empty for
	// private chats.
	Link string
	// Reach is how the channel adapter reaches the conversation later,
	// outside a turn (Teams: the service URL); kept with a ticket so that
	// its user can be told news.
	Reach string
	// Message identifies the message a button was on, so that a user's
	// later verdict on it replaces the earlier one; the conversation when
	// empty.
	Message string
}

// Outcome is what to do with a turn.
type Outcome struct {
	Reply Reply
	// Post is true when the reply is to be sent as a message.
	Post bool
	// React is true when the turn is to be acknowledged with a reaction.
	React bool
}

// Handle answers one turn. Failures of the stores are logged and do not
// stop the reply: a conversation that cannot be loaded is answered as a
// new one (and not saved over).
func (s *Sessions) Handle(ctx context.Context, t Turn) Outcome {
	start := time.Now()
	in := t.Input
	b := s.begin(ctx, t, in.Lang == "" && in.Action != ActLang)
	if b.lang != "" {
		in.Lang = b.lang
	}
	// The limit counts every message a user sends, the ones the bot stays
	// silent on too: a user flooding a channel must not cost the others.
	if !b.allowed {
		r := s.eng.Limited(State{}, in)
		if t.Quiet {
			return Outcome{Reply: r}
		}
		s.obs.Replied(r.Kind, time.Since(start))
		return Outcome{Reply: r, Post: true}
	}
	st, loaded := b.state, b.loaded

	if t.ID != "" && st.Turn == t.ID {
		in = Input{Action: ActShow, Lang: in.Lang, Locale: in.Locale}
	}
	r, next := s.eng.Respond(st, in)
	next.Turn = t.ID
	if st.Ticket != "" && s.desk != nil && in.Action == ActMessage && r.Handoff == nil && !r.ConfirmHandoff {
		// While people work on the conversation's ticket, they read what
		// the user writes, addressed to the bot or not.
		if err := s.desk.Relay(ctx, t.Key, t.User, in.Text); err != nil {
			s.log.Warn("relay to ticket", "key", t.Key, "err", err)
		}
	}
	out := Outcome{Reply: r, Post: true, React: false}
	if t.Quiet {
		out.Post = r.Speaks()
		out.React = !out.Post && r.React
		if !out.Post && !out.React {
			return Outcome{Reply: r}
		}
	}

	// Reaching here, the reply is posted or reacted to: the conversation
	// goes on from it.
	if r.Handoff != nil {
		out.Reply, next = s.handOff(ctx, t, out.Reply, next)
	}
	if s.store != nil && t.Key != "" && loaded {
		if err := s.store.SaveConversation(ctx, t.Key, next, s.ttl); err != nil {
			s.log.Warn("save conversation", "key", t.Key, "err", err)
		}
	}
	if r.SetLang != "" && s.prefs != nil && t.User != "" {
		if err := s.prefs.SetLang(ctx, t.User, r.SetLang); err != nil {
			s.log.Warn("save language preference", "user", t.User, "err", err)
		}
	}
	if r.Verdict != nil && r.Verdict.Entry != "" && s.fb != nil {
		msg := t.Message
		if msg == "" {
			msg = t.Key
		}
		err := s.fb.RecordFeedback(ctx, Feedback{Entry: r.Verdict.Entry, Solved: r.Verdict.Solved, User: t.User,
			Message: msg, Lang: r.Lang})
		if err != nil {
			s.log.Warn("record feedback", "entry", r.Verdict.Entry, "err", err)
		}
	}
	if r.Kind == KindClarify && out.Post && in.Action == ActMessage && s.unans != nil {
		if text := kb.Prepare(in.Text).Text; text != "" {
			if err := s.unans.RecordUnanswered(ctx, text); err != nil {
				s.log.Warn("record unanswered", "err", err)
			}
		}
	}
	s.obs.Replied(r.Kind, time.Since(start))
	return out
}

// handOff sends a confirmed hand-off to the desk and says how it went.
func (s *Sessions) handOff(ctx context.Context, t Turn, r Reply, next State) (Reply, State) {
	if s.desk == nil {
		return r, next
	}
	tk, err := s.desk.HandOff(ctx, Handoff{Key: t.Key, User: t.User, UserName: t.UserName, Link: t.Link, Reach: t.Reach, Request: *r.Handoff})
	if err != nil {
		s.log.Error("hand off", "key", t.Key, "err", err)
		r.Intro = s.eng.HandoffFailed(r.Lang, errors.Is(err, ErrHandoffPending))
		r.Summary = r.Handoff.Summary
		return r, next
	}
	r.Intro = s.eng.HandoffSent(r.Lang, tk)
	next.Ticket = tk.Ref
	return r, next
}

// Fork copies the conversation under from to to: a reply posted elsewhere
// (Slack's "Post to channel") continues there.
func (s *Sessions) Fork(ctx context.Context, from, to string) error {
	if s.store == nil || from == "" || to == "" {
		return nil
	}
	st, ok, err := s.store.Conversation(ctx, from)
	if err != nil || !ok {
		return err
	}
	if err := s.store.SaveConversation(ctx, to, st, s.ttl); err != nil {
		return fmt.Errorf("fork conversation %s to %s: %w", from, to, err)
	}
	return nil
}

// Lang returns the reply language for the bot's own texts outside a
// conversation (help, errors): the user's saved choice, else the locale,
// else the default.
func (s *Sessions) Lang(ctx context.Context, user, locale string) kb.Lang {
	if s.prefs != nil && user != "" {
		saved, ok, err := s.prefs.Lang(ctx, user)
		if l := s.checkLang(user, saved, ok, err); l != "" {
			return l
		}
	}
	if l, ok := kb.LangFromLocale(locale); ok {
		return l
	}
	return s.eng.DefaultLang()
}

// ClearLang forgets the user's saved language, and the language chosen in
// the conversation under key (empty: none): replies follow the language
// the user writes in again.
func (s *Sessions) ClearLang(ctx context.Context, user, key string) error {
	if s.store != nil && key != "" {
		st, ok, err := s.store.Conversation(ctx, key)
		if err != nil {
			return fmt.Errorf("clear language of conversation %s: %w", key, err)
		}
		if ok && st.LangChosen {
			st.LangChosen = false
			if err := s.store.SaveConversation(ctx, key, st, s.ttl); err != nil {
				return fmt.Errorf("clear language of conversation %s: %w", key, err)
			}
		}
	}
	if s.prefs == nil || user == "" {
		return nil
	}
	if err := s.prefs.SetLang(ctx, user, ""); err != nil {
		return fmt.Errorf("clear language of %s: %w", user, err)
	}
	return nil
}

// beginning is what a turn starts from.
type beginning struct {
	// lang is the user's saved language; empty when none or not asked.
	lang kb.Lang
	// allowed reports the turn within the user's limit.
	allowed bool
	// state is the conversation; loaded is false when it could not be
	// read (the turn is answered as a new conversation, not saved over).
	state  State
	loaded bool
}

// begin reads the user's saved language (when needLang), counts the turn
// against the rate limit and loads the conversation: through the Starter
// in one go when there is one (the conversation is then read for a turn
// over the limit too, and not used), else one store after the other, the
// conversation only for a turn within the limit. A store that fails is
// logged and does not stop the turn.
func (s *Sessions) begin(ctx context.Context, t Turn, needLang bool) beginning {
	b := beginning{allowed: true, loaded: true}
	q := TurnQuery{User: t.User, Key: t.Key,
		Lang:         needLang && s.prefs != nil && t.User != "",
		Limit:        s.limit != nil && t.User != "",
		Conversation: s.store != nil && t.Key != ""}
	if s.start != nil {
		r := s.start.StartTurn(ctx, q)
		if q.Lang {
			b.lang = s.checkLang(t.User, r.Lang, r.LangOK, r.LangErr)
		}
		if q.Limit {
			b.allowed = s.checkAllowed(r.Allowed, r.LimitErr)
		}
		if q.Conversation {
			b.state, b.loaded = s.checkState(t.Key, r.State, r.StateErr)
		}
		return b
	}
	if q.Lang {
		l, ok, err := s.prefs.Lang(ctx, t.User)
		b.lang = s.checkLang(t.User, l, ok, err)
	}
	if q.Limit {
		ok, err := s.limit.Allow(ctx, t.User)
		b.allowed = s.checkAllowed(ok, err)
	}
	if q.Conversation && b.allowed {
		st, _, err := s.store.Conversation(ctx, t.Key)
		b.state, b.loaded = s.checkState(t.Key, st, err)
	}
	return b
}

// checkLang returns a saved language that is one of the catalog's.
func (s *Sessions) checkLang(user string, l kb.Lang, ok bool, err error) kb.Lang {
	if err != nil {
		s.log.Warn("language preference", "user", user, "err", err)
		return ""
	}
	if !ok || !l.Valid() {
		return ""
	}
	return l
}

// checkAllowed lets a turn through when the limiter could not count: a
// limiter that cannot count must not silence everyone.
func (s *Sessions) checkAllowed(ok bool, err error) bool {
	if err != nil {
		s.log.Warn("rate limiter unavailable", "err", err)
		return true
	}
	return ok
}

// checkState returns the loaded conversation, or a new one that is not
// saved over the one that could not be read.
func (s *Sessions) checkState(key string, st State, err error) (State, bool) {
	if err != nil {
		s.log.Warn("load conversation", "key", key, "err", err)
		return State{}, false
	}
	return st, true
}
