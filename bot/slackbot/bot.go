// Package slackbot is enrollbot's Slack adapter: it answers Intune enrollment
// errors pasted into channels, direct messages, mentions and the /enroll
// slash command, with Block Kit replies rendered from the engine's
// (package bot) structured replies.
//
// Slack reaches the bot over HTTP (Handler: the Events API, slash commands
// and interactivity endpoints, each request's signature verified before
// anything is parsed) or over Socket Mode (RunSocketMode); both feed the
// same handlers. Every delivery is acknowledged at once; the reply work
// (engine and Web API calls) runs afterwards in a goroutine bounded by a
// timeout, and Shutdown waits for it. Events Slack delivers again are
// answered once (bot.Dedupe), Web API rate limits and transient failures
// are retried, and everything a user wrote that a reply quotes is escaped
// so that a pasted <!channel> never pings anyone.
package slackbot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// Defaults of Config's optional fields.
const (
	DefaultReplyTimeout  = 30 * time.Second
	DefaultDedupeTTL     = time.Hour
	DefaultMaxBody       = 1 << 20
	DefaultMaxRetries    = 3
	DefaultBackoff       = 500 * time.Millisecond
	DefaultLocaleTTL     = time.Hour
	DefaultMaxConcurrent = 32
	DefaultReaction      = "white_check_mark"
)

// Config wires a Bot.
type Config struct {
	// Engine answers the turns; required.
	Engine *bot.Engine
	// Bundle holds the bot's wording (package locales); required.
	Bundle *i18n.Bundle
	// Store must be the conversation store Engine was built with: clicks on
	// buttons continue conversations through it. Required.
	Store bot.Store
	// Preferences keeps users' language choices; in memory when nil.
	Preferences bot.Preferences
	// Dedupe makes redelivered events answered once; in memory when nil.
	Dedupe bot.Dedupe
	// Feedback records Solved / Not solved clicks; in memory when nil.
	Feedback bot.FeedbackStore
	// API is the Web API client, with the bot token; required.
	API *slack.Client
	// SigningSecret verifies HTTP requests; required by Handler.
	SigningSecret string
	// BotUserID is the bot's own user id (auth.test); when empty, the
	// authorizations Slack sends with each event tell it.
	BotUserID string
	// HTTPClient posts to response_url; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// DefaultLang is the language of help texts when nothing else decides;
	// English when empty.
	DefaultLang kb.Lang
	// Logger receives rejected requests, failed Web API calls and dropped
	// work; discarded when nil.
	Logger *slog.Logger
	// Observer counts Web API retries and dedupe hits; nil observes nothing.
	Observer bot.Observer

	// The fields below are optional: a zero value takes the Default*
	// constant (or the one named).

	// ReplyTimeout bounds the work behind one delivery, retries included.
	ReplyTimeout time.Duration
	// StateTTL is how long conversations are kept; bot.DefaultStateTTL when 0.
	StateTTL time.Duration
	// DedupeTTL is how long event ids are remembered.
	DedupeTTL time.Duration
	// MaxBody caps the size of an HTTP request body.
	MaxBody int64
	// MaxRetries bounds the retries of one Web API call.
	MaxRetries int
	// Backoff is the wait before the first retry after a transient failure;
	// it doubles with each retry.
	Backoff time.Duration
	// LocaleTTL is how long a user's Slack locale is cached.
	LocaleTTL time.Duration
	// MaxConcurrent bounds the replies worked on at once.
	MaxConcurrent int
	// Reaction is the emoji name put on a message the bot answered.
	Reaction string
	// Sleep waits between retries; a timer when nil. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Bot serves Slack. It is safe for concurrent use.
type Bot struct {
	cfg      Config
	eng      *bot.Engine
	api      *slack.Client
	store    bot.Store
	prefs    bot.Preferences
	dedupe   bot.Dedupe
	feedback bot.FeedbackStore
	http     *http.Client
	log      *slog.Logger
	words    *words
	render   *renderer
	locales  *localeCache
	sleep    func(ctx context.Context, d time.Duration) error

	// replies runs the work behind each acknowledged delivery.
	replies *bot.Replies
}

// New checks cfg and returns a Bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Engine == nil || cfg.Bundle == nil || cfg.Store == nil || cfg.API == nil {
		return nil, errors.New("slack: engine, message bundle, conversation store and API client are required")
	}
	if cfg.DefaultLang == "" {
		cfg.DefaultLang = kb.English
	}
	if !cfg.DefaultLang.Valid() {
		return nil, fmt.Errorf("slack: default language %q is not one of en, nl, sv, de", cfg.DefaultLang)
	}
	if cfg.Preferences == nil {
		cfg.Preferences = bot.NewMemoryPreferences()
	}
	if cfg.Dedupe == nil {
		cfg.Dedupe = bot.NewMemoryDedupe()
	}
	if cfg.Feedback == nil {
		cfg.Feedback = bot.NewMemoryFeedback()
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
	setDefault(&cfg.ReplyTimeout, DefaultReplyTimeout)
	setDefault(&cfg.StateTTL, bot.DefaultStateTTL)
	setDefault(&cfg.DedupeTTL, DefaultDedupeTTL)
	setDefault(&cfg.MaxBody, DefaultMaxBody)
	setDefault(&cfg.MaxRetries, DefaultMaxRetries)
	setDefault(&cfg.Backoff, DefaultBackoff)
	setDefault(&cfg.LocaleTTL, DefaultLocaleTTL)
	setDefault(&cfg.MaxConcurrent, DefaultMaxConcurrent)
	setDefault(&cfg.Reaction, DefaultReaction)
	if cfg.Sleep == nil {
		cfg.Sleep = bot.Sleep
	}
	w := newWords(cfg.Bundle, cfg.Logger)
	return &Bot{
		cfg:      cfg,
		eng:      cfg.Engine,
		api:      cfg.API,
		store:    cfg.Store,
		prefs:    cfg.Preferences,
		dedupe:   cfg.Dedupe,
		feedback: cfg.Feedback,
		http:     cfg.HTTPClient,
		log:      cfg.Logger,
		words:    w,
		render:   &renderer{w: w},
		locales:  newLocaleCache(cfg.LocaleTTL),
		sleep:    cfg.Sleep,
		replies:  bot.NewReplies("slack", cfg.MaxConcurrent, cfg.ReplyTimeout, cfg.Logger),
	}, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Shutdown stops taking new work and waits for the replies in flight until
// ctx ends; then it cancels them and returns ctx's error. Stop the server
// (and Socket Mode) first, so that no delivery is acknowledged and then
// dropped.
func (b *Bot) Shutdown(ctx context.Context) error { return b.replies.Shutdown(ctx) }

// spawn runs work after the delivery was acknowledged.
func (b *Bot) spawn(work func(ctx context.Context)) error { return b.replies.Go(work) }

// lang returns the language user saved, if any.
func (b *Bot) lang(ctx context.Context, user string) kb.Lang {
	if user == "" {
		return ""
	}
	l, ok, err := b.prefs.Lang(ctx, prefKey(user))
	if err != nil {
		b.log.Warn("slack language preference", "user", user, "err", err)
		return ""
	}
	if !ok || !l.Valid() {
		return ""
	}
	return l
}

func prefKey(user string) string { return "slack:" + user }

// turnLang returns what a turn of user's carries about language: the saved
// preference, or when there is none the user's Slack locale.
func (b *Bot) turnLang(ctx context.Context, user string) (kb.Lang, string) {
	if l := b.lang(ctx, user); l != "" {
		return l, ""
	}
	return "", b.locale(ctx, user)
}

// replyLang decides the language of the bot's own texts (help, language
// confirmations): preference, then Slack locale, then the default.
func (b *Bot) replyLang(ctx context.Context, user string) kb.Lang {
	l, locale := b.turnLang(ctx, user)
	if l != "" {
		return l
	}
	if l, ok := kb.LangFromLocale(locale); ok {
		return l
	}
	return b.cfg.DefaultLang
}

// locale returns user's Slack locale (users.info), cached; empty when
// unknown.
func (b *Bot) locale(ctx context.Context, user string) string {
	if user == "" {
		return ""
	}
	if l, ok := b.locales.get(user); ok {
		return l
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

// localeCache remembers users' Slack locales.
type localeCache struct {
	mu  sync.Mutex
	m   map[string]localeItem
	ttl time.Duration
	now func() time.Time
}

type localeItem struct {
	locale  string
	expires time.Time
}

func newLocaleCache(ttl time.Duration) *localeCache {
	return &localeCache{m: map[string]localeItem{}, ttl: ttl, now: time.Now}
}

func (c *localeCache) get(user string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.m[user]
	if !ok || !c.now().Before(it.expires) {
		return "", false
	}
	return it.locale, true
}

// put caches locale for ttl, or for the cache's TTL when ttl is 0.
func (c *localeCache) put(user, locale string, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
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

// scratchKey returns a fresh conversation key for redoing a reply without
// touching the conversation it came from.
func scratchKey() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "slack:scratch:" + hex.EncodeToString(b[:])
}
