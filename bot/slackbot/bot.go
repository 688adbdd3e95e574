// Package slackbot is enrollbot's Slack adapter: it answers Intune enrollment
// errors pasted into channels, direct messages, mentions and the /enroll
// slash command, with Block Kit replies rendered from the engine's
// (package bot) structured replies.
//
// The adapter only translates: a message, a button or a command becomes a
// bot.Input, which one bot.Sessions.Handle call answers (Sessions runs the
// engine and keeps the conversation, the rate limit, language preferences,
// verdicts and the unanswered log); the bot.Outcome says whether to post
// the reply, put a reaction, or stay silent. Messages in channels that
// nobody addressed to the bot are quiet turns: chatter leaves no trace.
//
// Slack reaches the bot over HTTP (Handler: the Events API, slash commands
// and interactivity endpoints, each request's signature verified before
// anything is parsed) or over Socket Mode (RunSocketMode); both feed the
// same handlers. Every delivery is acknowledged as soon as its work is
// queued (package queue: with Redis, durably); workers do the reply work
// (Sessions and Web API calls) afterwards, users' work in turn, each bounded
// in time, and Shutdown waits for it. Events Slack delivers again are
// answered once (bot.Dedupe), Web API rate limits and transient failures
// are retried, and everything a user wrote that a reply quotes is escaped
// so that a pasted <!channel> never pings anyone.
package slackbot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/queue"
	"github.com/enrollbot/enrollbot/kb"
)

// Defaults of Config's optional fields.
const (
	DefaultReplyTimeout  = queue.DefaultWork
	DefaultGiveUp        = queue.DefaultGiveUp
	DefaultDedupeTTL     = time.Hour
	DefaultMaxBody       = 1 << 20
	DefaultMaxRetries    = 50
	DefaultBackoff       = 500 * time.Millisecond
	DefaultLocaleTTL     = time.Hour
	DefaultMaxConcurrent = 32
	DefaultReaction      = "white_check_mark"
)

// Config wires a Bot.
type Config struct {
	// Sessions answers the turns: it runs the engine and keeps the
	// conversations, the rate limit, language preferences, verdicts and
	// the unanswered log. Required.
	Sessions *bot.Sessions
	// Dedupe makes redelivered events answered once; in memory when nil.
	Dedupe bot.Dedupe
	// Queue keeps the work of acknowledged deliveries until it is done
	// (with Redis: across restarts and replicas); in process over Dedupe
	// when nil.
	Queue queue.Backend
	// API is the Web API client, with the bot token; required.
	API *slack.Client
	// SigningSecret verifies HTTP requests; required by Handler.
	SigningSecret string
	// BotUserID is the bot's own user id (auth.test); when empty, the
	// authorizations Slack sends with each event tell it.
	BotUserID string
	// HTTPClient posts to response_url; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// DefaultLang, when set, must be the engine's default language (the
	// language of replies when nothing else decides), which Sessions
	// falls back to; New rejects one that differs.
	DefaultLang kb.Lang
	// Logger receives rejected requests, failed Web API calls and dropped
	// work; discarded when nil.
	Logger *slog.Logger
	// Observer counts Web API retries and dedupe hits; nil observes
	// nothing. Replies are observed by Sessions.
	Observer bot.Observer
	// Experts is the experts channel hand-offs are posted to (made with
	// NewExperts, and put on the sessions' desk); nil: none.
	Experts *Experts
	// Tickets records what experts do on the card (taken, resolved, a
	// catalog gap); nil records nothing.
	Tickets bot.TicketDesk
	// Notify reaches ticket users outside Slack (Teams) with experts'
	// replies; nil: they are not told.
	Notify bot.TicketNotifier
	// Gaps records what experts flag with Add to catalog, for
	// `enrollbotd report`; nil records nothing.
	Gaps bot.UnansweredLog

	// The fields below are optional: a zero value takes the Default*
	// constant.

	// ReplyTimeout bounds the work behind one delivery, retries included,
	// counted from when a worker starts it.
	ReplyTimeout time.Duration
	// GiveUp bounds a reply's life from the delivery's acknowledgement:
	// past it, the reply is given up, logged at Warn and counted.
	GiveUp time.Duration
	// DedupeTTL is how long event ids are remembered.
	DedupeTTL time.Duration
	// MaxBody caps the size of an HTTP request body.
	MaxBody int64
	// MaxRetries bounds the retries of one Web API call; the reply's
	// deadline usually ends them first.
	MaxRetries int
	// Backoff is the wait before the first retry after a transient failure;
	// it doubles with each retry.
	Backoff time.Duration
	// LocaleTTL is how long a user's Slack locale is cached.
	LocaleTTL time.Duration
	// MaxConcurrent bounds the replies worked on at once.
	MaxConcurrent int
	// Reaction is the emoji name put on a message the bot answered, and on
	// thanks in a thread.
	Reaction string
	// Sleep waits between retries; a timer when nil. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Bot serves Slack. It is safe for concurrent use.
type Bot struct {
	cfg      Config
	sessions *bot.Sessions
	api      *slack.Client
	dedupe   bot.Dedupe
	http     *http.Client
	log      *slog.Logger
	words    *words
	render   *renderer
	locales  *localeCache
	sleep    func(ctx context.Context, d time.Duration) error

	// queue runs the work behind each acknowledged delivery.
	queue *queue.Queue
}

// New checks cfg and returns a Bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Sessions == nil || cfg.API == nil {
		return nil, errors.New("slack: sessions and API client are required")
	}
	if def := cfg.Sessions.Engine().DefaultLang(); cfg.DefaultLang != "" && cfg.DefaultLang != def {
		return nil, fmt.Errorf("slack: default language %q differs from the engine's %q; set it on the engine", cfg.DefaultLang, def)
	}
	if cfg.Dedupe == nil {
		cfg.Dedupe = bot.NewMemoryDedupe()
	}
	if cfg.Queue == nil {
		cfg.Queue = queue.NewMemory(cfg.Dedupe, 0)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Observer == nil {
		cfg.Observer = bot.NopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.ReplyTimeout = cmp.Or(cfg.ReplyTimeout, DefaultReplyTimeout)
	cfg.GiveUp = cmp.Or(cfg.GiveUp, DefaultGiveUp)
	cfg.DedupeTTL = cmp.Or(cfg.DedupeTTL, DefaultDedupeTTL)
	cfg.MaxBody = cmp.Or(cfg.MaxBody, DefaultMaxBody)
	cfg.MaxRetries = cmp.Or(cfg.MaxRetries, DefaultMaxRetries)
	cfg.Backoff = cmp.Or(cfg.Backoff, DefaultBackoff)
	cfg.LocaleTTL = cmp.Or(cfg.LocaleTTL, DefaultLocaleTTL)
	cfg.MaxConcurrent = cmp.Or(cfg.MaxConcurrent, DefaultMaxConcurrent)
	cfg.Reaction = cmp.Or(cfg.Reaction, DefaultReaction)
	if cfg.Sleep == nil {
		cfg.Sleep = bot.Sleep
	}
	w := newWords(cfg.Sessions.Engine().Wording())
	b := &Bot{
		cfg:      cfg,
		sessions: cfg.Sessions,
		api:      cfg.API,
		dedupe:   cfg.Dedupe,
		http:     cfg.HTTPClient,
		log:      cfg.Logger,
		words:    w,
		render:   &renderer{w: w},
		locales:  newLocaleCache(cfg.LocaleTTL),
		sleep:    cfg.Sleep,
	}
	if cfg.Experts != nil {
		if cfg.Experts.channel == "" {
			return nil, errors.New("slack: the experts channel id is empty")
		}
		cfg.Experts.bot = b
	}
	b.queue = queue.New(cfg.Queue, b.work, queue.Config{Name: "slack", Workers: cfg.MaxConcurrent,
		Work: cfg.ReplyTimeout, GiveUp: cfg.GiveUp, Logger: cfg.Logger,
		OnGiveUp: func() { cfg.Observer.GaveUp("slack") }})
	return b, nil
}

// Shutdown stops taking new work and works on until ctx ends; then it
// cancels the work in flight and returns ctx's error. With a durable
// queue, the replies not sent stay queued for another replica or the next
// start; in process, they are lost (logged). Deliveries that arrive while
// stopping are not acknowledged, so that Slack sends them again.
func (b *Bot) Shutdown(ctx context.Context) error { return b.queue.Shutdown(ctx) }

// sessionUser is how Sessions knows a Slack user: the rate limit, the
// language preference and verdicts are theirs.
func sessionUser(user string) string { return "slack:" + user }

// ownLang is the language of the bot's own texts for user (help, language
// notes): the saved preference, else the Slack locale, else the default.
func (b *Bot) ownLang(ctx context.Context, user string) kb.Lang {
	return b.sessions.Lang(ctx, sessionUser(user), b.locale(ctx, user))
}

// locale returns user's Slack locale (users.info), cached; empty when
// unknown. Concurrent turns of a user whose locale is not cached wait for
// one lookup.
func (b *Bot) locale(ctx context.Context, user string) string {
	if user == "" {
		return ""
	}
	l, ok, pending := b.locales.get(user)
	if ok {
		return l
	}
	if pending != nil {
		select {
		case <-pending.done:
			return pending.locale
		case <-ctx.Done():
			return ""
		}
	}
	var u *slack.User
	err := b.call(ctx, "users.info", []any{"user", user}, func(ctx context.Context) error {
		var err error
		u, err = b.api.GetUserInfoContext(ctx, user)
		return err
	})
	if err != nil {
		// Remember the failure briefly, so a broken scope does not double
		// every reply's calls.
		b.locales.put(user, "", time.Minute)
		return ""
	}
	b.locales.put(user, u.Locale, 0)
	return u.Locale
}

// localeCache remembers users' Slack locales, and the lookups under way.
type localeCache struct {
	mu      sync.Mutex
	m       map[string]localeItem
	pending map[string]*lookup
	ttl     time.Duration
	now     func() time.Time
}

type localeItem struct {
	locale  string
	expires time.Time
}

// lookup is a users.info call under way; done is closed when locale is
// known.
type lookup struct {
	done   chan struct{}
	locale string
}

func newLocaleCache(ttl time.Duration) *localeCache {
	return &localeCache{m: map[string]localeItem{}, pending: map[string]*lookup{}, ttl: ttl, now: time.Now}
}

// get returns user's cached locale. When there is none, it returns the
// lookup under way to wait for, or none: then the caller is to look the
// locale up and put it.
func (c *localeCache) get(user string) (string, bool, *lookup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.m[user]; ok && c.now().Before(it.expires) {
		return it.locale, true, nil
	}
	if l, ok := c.pending[user]; ok {
		return "", false, l
	}
	c.pending[user] = &lookup{done: make(chan struct{})}
	return "", false, nil
}

// put caches locale for ttl, or for the cache's TTL when ttl is 0, and
// ends the lookup under way.
func (c *localeCache) put(user, locale string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.pending[user]; ok {
		l.locale = locale
		close(l.done)
		delete(c.pending, user)
	}
	if ttl == 0 {
		ttl = c.ttl
	}
	now := c.now()
	if len(c.m) >= 4096 {
		for k, it := range c.m {
			if !now.Before(it.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= 4096 {
			clear(c.m)
		}
	}
	c.m[user] = localeItem{locale: locale, expires: now.Add(ttl)}
}
