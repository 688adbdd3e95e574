// Package teamsbot is enrollbot's Microsoft Teams adapter: it answers Intune
// enrollment errors sent to the bot in a personal chat, or @mentioning it in
// a channel or group chat, with Adaptive Cards rendered from the engine's
// (package bot) structured replies, in the user's Teams language.
//
// The Bot Framework posts activities to Handler (POST /api/messages). With
// an app id and password, each request's bearer token is verified (see
// Validator) before the bot acts on it; without them (local testing only)
// nothing is verified, and replies go to loopback service URLs only. Every
// activity is acknowledged once its work is queued (package queue: with
// Redis, durably; 503 when that fails, so that it is sent again); workers
// do the reply work (the turn through bot.Sessions, connector calls)
// afterwards, users in turn, each bounded in time, and Shutdown waits for
// it. Activities the Bot Framework delivers again are answered once (the
// claim is recorded with the queued work).
//
// The adapter only translates: a message's text, or a card button's data,
// becomes a bot.Input; bot.Sessions answers it (conversation state, rate
// limit, language preference, verdicts, metrics); the reply becomes a card.
//
// The adapter wraps github.com/infracloudio/msbotbuilder-go: its schema
// types, its activity dispatch, its token-validator and credential
// interfaces, and its connector client, which posts the replies. It
// replaces what that library gets wrong: token validation (Validator), the
// outgoing token (a locked cache, the tenant's endpoint for single-tenant
// bots, no panic on a transport error; see TokenURL), and the reply path
// (v3/conversations/{id}/activities/{replyToId}).
package teamsbot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/infracloudio/msbotbuilder-go/connector/auth"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/queue"
)

// Path is where the Bot Framework posts activities: the bot's messaging
// endpoint is https://HOST/api/messages.
const Path = "/api/messages"

// Defaults of Config's optional fields.
const (
	DefaultReplyTimeout  = queue.DefaultWork
	DefaultGiveUp        = queue.DefaultGiveUp
	DefaultDedupeTTL     = time.Hour
	DefaultMaxBody       = 256 << 10
	DefaultMaxRetries    = 50
	DefaultBackoff       = 500 * time.Millisecond
	DefaultMaxConcurrent = 32
)

// Config wires a Bot.
type Config struct {
	// Sessions answers the turns: it keeps the conversations, the users'
	// language preferences and verdicts, counts the rate limit and observes
	// the replies. Required.
	Sessions *bot.Sessions
	// Dedupe makes redelivered activities answered once; in memory when nil.
	Dedupe bot.Dedupe
	// Queue keeps the work of acknowledged activities until it is done
	// (with Redis: across restarts and replicas); in process over Dedupe
	// when nil.
	Queue queue.Backend
	// Observer counts connector retries and dedupe hits (Sessions observes
	// the replies); nil observes nothing.
	Observer bot.Observer

	// AppID and AppPassword are the bot's Microsoft app credentials
	// (MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD). With them, every request
	// must carry a valid Bot Framework token.
	AppID       string
	AppPassword string
	// TenantID is the app's tenant for a single-tenant bot
	// (MICROSOFT_APP_TENANT_ID); empty for a multi-tenant one.
	TenantID string
	// InsecureNoAuth runs the bot without credentials, for local testing
	// with the Bot Framework Emulator: no request is verified, and replies
	// go to loopback service URLs only. It is refused together with AppID.
	InsecureNoAuth bool
	// OpenIDMetadataURL is where the token signing keys are published;
	// DefaultOpenIDMetadataURL when empty.
	OpenIDMetadataURL string
	// TokenURL is the token endpoint of the bot's outgoing token;
	// TokenURL(TenantID) when empty.
	TokenURL string
	// HTTPClient fetches signing keys and tokens; a client with a 10 s
	// timeout when nil.
	HTTPClient *http.Client
	// ConnectorTimeout bounds one request to the Bot Connector; 15 s when 0.
	ConnectorTimeout time.Duration

	// Logger receives rejected requests, failed connector calls and dropped
	// work; discarded when nil.
	Logger *slog.Logger
	// Experts is the experts channel hand-offs are posted to (NewExperts,
	// put on the sessions' desk); nil: none. Settings keeps the channel
	// registered with "experts here"; Tickets records what experts do on
	// the card; Notify tells users in any chat of it.
	Experts  *Experts
	Settings bot.Settings
	Tickets  bot.TicketDesk
	Notify   bot.TicketNotifier

	// The fields below are optional: a zero value takes the Default*
	// constant.

	// ReplyTimeout bounds the work behind one activity, retries included,
	// counted from when a worker starts it.
	ReplyTimeout time.Duration
	// GiveUp bounds a reply's life from the activity's acknowledgement:
	// past it, the reply is given up, logged at Warn and counted.
	GiveUp time.Duration
	// DedupeTTL is how long activity ids are remembered.
	DedupeTTL time.Duration
	// MaxBody caps the size of a request body.
	MaxBody int64
	// MaxRetries bounds the retries of one connector call; the reply's
	// deadline usually ends them first.
	MaxRetries int
	// Backoff is the wait before the first retry after a transient failure;
	// it doubles with each retry.
	Backoff time.Duration
	// MaxConcurrent bounds the replies worked on at once.
	MaxConcurrent int
	// Sleep waits between retries; a timer when nil. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Bot serves Microsoft Teams. It is safe for concurrent use.
type Bot struct {
	cfg      Config
	sessions *bot.Sessions
	dedupe   bot.Dedupe
	log      *slog.Logger
	words    *bot.Wording
	render   *renderer
	sleep    func(ctx context.Context, d time.Duration) error
	// validator is nil without credentials.
	validator *Validator
	creds     auth.CredentialProvider
	conn      *connector

	// queue runs the work behind each acknowledged delivery.
	queue *queue.Queue
}

// New checks cfg and returns a Bot.
func New(cfg Config) (*Bot, error) {
	if cfg.Sessions == nil {
		return nil, errors.New("teams: sessions are required")
	}
	switch {
	case cfg.AppID != "" && cfg.InsecureNoAuth:
		return nil, errors.New("teams: an app id and running without authentication exclude each other")
	case cfg.AppID == "" && !cfg.InsecureNoAuth:
		return nil, errors.New("teams: the Microsoft app id and password are required (or, for local testing, running without authentication)")
	case cfg.AppID != "" && cfg.AppPassword == "":
		return nil, errors.New("teams: the Microsoft app password is required with the app id")
	}
	if cfg.Dedupe == nil {
		cfg.Dedupe = bot.NewMemoryDedupe()
	}
	if cfg.Queue == nil {
		cfg.Queue = queue.NewMemory(cfg.Dedupe, 0)
	}
	if cfg.Observer == nil {
		cfg.Observer = bot.NopObserver{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = TokenURL(cfg.TenantID)
	}
	tokenURL, err := url.Parse(cfg.TokenURL)
	if err != nil || (tokenURL.Scheme != "https" && tokenURL.Scheme != "http") || tokenURL.Host == "" {
		return nil, fmt.Errorf("teams: token URL %q is not an http(s) URL", cfg.TokenURL)
	}
	cfg.ConnectorTimeout = cmp.Or(cfg.ConnectorTimeout, 15*time.Second)
	cfg.ReplyTimeout = cmp.Or(cfg.ReplyTimeout, DefaultReplyTimeout)
	cfg.GiveUp = cmp.Or(cfg.GiveUp, DefaultGiveUp)
	cfg.DedupeTTL = cmp.Or(cfg.DedupeTTL, DefaultDedupeTTL)
	cfg.MaxBody = cmp.Or(cfg.MaxBody, DefaultMaxBody)
	cfg.MaxRetries = cmp.Or(cfg.MaxRetries, DefaultMaxRetries)
	cfg.Backoff = cmp.Or(cfg.Backoff, DefaultBackoff)
	cfg.MaxConcurrent = cmp.Or(cfg.MaxConcurrent, DefaultMaxConcurrent)
	if cfg.Sleep == nil {
		cfg.Sleep = bot.Sleep
	}

	var validator *Validator
	if cfg.AppID != "" {
		validator, err = NewValidator(ValidatorConfig{AppID: cfg.AppID, MetadataURL: cfg.OpenIDMetadataURL,
			HTTPClient: cfg.HTTPClient, Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
	}
	creds := auth.SimpleCredentialProvider{AppID: cfg.AppID, Password: cfg.AppPassword}
	tokens := newTokenSource(cfg.TokenURL, cfg.AppID, cfg.AppPassword, cfg.HTTPClient)
	w := cfg.Sessions.Engine().Wording()
	b := &Bot{
		cfg:       cfg,
		sessions:  cfg.Sessions,
		dedupe:    cfg.Dedupe,
		log:       cfg.Logger,
		words:     w,
		render:    &renderer{w: w},
		sleep:     cfg.Sleep,
		validator: validator,
		creds:     creds,
		conn: &connector{
			creds:        creds,
			tokenURL:     *tokenURL,
			tokens:       tokens,
			authClient:   &http.Client{Transport: authTransport{src: tokens}},
			replyClient:  newReplyClient(cfg.ConnectorTimeout, cfg.InsecureNoAuth, cfg.MaxConcurrent),
			loopbackOnly: cfg.InsecureNoAuth,
		},
	}
	if cfg.Experts != nil {
		cfg.Experts.bot = b
	}
	b.queue = queue.New(cfg.Queue, b.work, queue.Config{Name: "teams", Workers: cfg.MaxConcurrent,
		Work: cfg.ReplyTimeout, GiveUp: cfg.GiveUp, Logger: cfg.Logger,
		OnGiveUp: func() { cfg.Observer.GaveUp("teams") }})
	return b, nil
}

// Authenticated reports whether requests are verified (the bot has
// credentials).
func (b *Bot) Authenticated() bool { return b.validator != nil }

// Shutdown stops taking new work and works on until ctx ends; then it
// cancels the work in flight and returns ctx's error. With a durable
// queue, the replies not sent stay queued for another replica or the next
// start; in process, they are lost (logged). Activities that arrive while
// stopping are not acknowledged, so that they are sent again.
func (b *Bot) Shutdown(ctx context.Context) error { return b.queue.Shutdown(ctx) }
