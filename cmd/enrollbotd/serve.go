package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/internal/cli"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"golang.org/x/net/netutil"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
	"github.com/enrollbot/enrollbot/bot/itsm"
	"github.com/enrollbot/enrollbot/bot/metrics"
	"github.com/enrollbot/enrollbot/bot/queue"
	"github.com/enrollbot/enrollbot/bot/redisstore"
	slackbot "github.com/enrollbot/enrollbot/bot/slackbot"
	teamsbot "github.com/enrollbot/enrollbot/bot/teamsbot"
	"github.com/enrollbot/enrollbot/kb"
	"github.com/enrollbot/enrollbot/locales"
)

// serveConfig is what `enrollbotd serve` runs with. Each chat platform is
// served when its credentials are configured; at least one must be.
type serveConfig struct {
	addr            string
	shutdownTimeout time.Duration
	// redisURL selects the shared store; empty keeps state in memory (one
	// replica).
	redisURL    string
	defaultLang kb.Lang
	// rateLimit is turns per user per minute.
	rateLimit int
	// handoffText says how to reach IT when no person is reachable through
	// the bot.
	handoffText string
	// metricsAddr is where /metrics listens; empty serves it on addr.
	metricsAddr string
	slack       slackConfig
	teams       teamsConfig
}

// slackConfig configures Slack; enabled when any SLACK_* credential is set.
type slackConfig struct {
	enabled       bool
	apiURL        string
	botToken      string
	signingSecret string
	appToken      string
}

// teamsConfig configures Microsoft Teams; enabled by MICROSOFT_APP_ID, or
// without credentials by --teams-insecure-no-auth (local testing only).
type teamsConfig struct {
	enabled     bool
	appID       string
	password    string
	tenantID    string
	noAuth      bool
	metadataURL string
	tokenURL    string
}

// configVars are the environment variables serve reads, for the docs and
// deployment files to agree with (a test checks docker-compose.yml and
// .env.example against it).
var configVars = []string{
	"ENROLLBOT_ADDR", "ENROLLBOT_METRICS_ADDR", "ENROLLBOT_DEFAULT_LANG", "ENROLLBOT_RATE_LIMIT", "ENROLLBOT_HANDOFF_TEXT", "REDIS_URL",
	"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL",
	"MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID", "ENROLLBOT_TEAMS_INSECURE_NO_AUTH",
	"BOTFRAMEWORK_OPENID_METADATA_URL", "BOTFRAMEWORK_TOKEN_URL",
	"JIRA_BASE_URL", "JIRA_EMAIL", "JIRA_API_TOKEN", "JIRA_PROJECT_KEY", "JIRA_ISSUE_TYPE",
	"SERVICENOW_INSTANCE_URL", "SERVICENOW_USER", "SERVICENOW_PASSWORD",
	"ENROLLBOT_TICKET_WEBHOOK_URL", "ENROLLBOT_TICKET_WEBHOOK_SECRET",
	"ENROLLBOT_SLACK_EXPERTS_CHANNEL", "ENROLLBOT_EXPERTS_LANG", "ENROLLBOT_TICKET_STATUS_SECRET",
	"ENROLLBOT_TEAMS_EXPERTS",
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envInt reads an integer variable; unset or unreadable is def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// envBool reads a boolean variable; unset or unreadable is false.
func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// runServe parses `enrollbotd serve`'s flags; tokens, secrets and passwords
// come from the environment only, where they do not show in process lists.
func runServe(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", envOr("ENROLLBOT_ADDR", ":8080"), "listen address for /healthz, the Slack endpoints and the Teams messaging endpoint (ENROLLBOT_ADDR)")
	apiURL := fs.String("slack-api-url", envOr("SLACK_API_URL", "https://slack.com/api/"), "Slack Web API base URL (SLACK_API_URL)")
	noAuth := fs.Bool("teams-insecure-no-auth", envBool("ENROLLBOT_TEAMS_INSECURE_NO_AUTH"),
		"serve Teams without MICROSOFT_APP_ID, verifying nothing and replying to loopback only: local testing with the Bot Framework Emulator (ENROLLBOT_TEAMS_INSECURE_NO_AUTH)")
	metadataURL := fs.String("teams-openid-metadata-url", envOr("BOTFRAMEWORK_OPENID_METADATA_URL", teamsbot.DefaultOpenIDMetadataURL),
		"OpenID metadata of the Bot Framework's token signing keys (BOTFRAMEWORK_OPENID_METADATA_URL)")
	tokenURL := fs.String("teams-token-url", os.Getenv("BOTFRAMEWORK_TOKEN_URL"),
		"token endpoint of the bot's outgoing token; the app tenant's, or the multi-tenant one, when empty (BOTFRAMEWORK_TOKEN_URL)")
	grace := fs.Duration("shutdown-timeout", 20*time.Second, "how long shutdown waits for replies in flight")
	redisURL := fs.String("redis-url", os.Getenv("REDIS_URL"), "shared state for several replicas, redis://host:port/db; in memory when empty (REDIS_URL)")
	defaultLang := fs.String("default-lang", envOr("ENROLLBOT_DEFAULT_LANG", "en"), "reply language when nothing else decides (ENROLLBOT_DEFAULT_LANG)")
	metricsAddr := fs.String("metrics-addr", envOr("ENROLLBOT_METRICS_ADDR", ":9091"), "listen address of /metrics, apart from the public one; empty serves it on --addr (ENROLLBOT_METRICS_ADDR)")
	handoff := fs.String("handoff-text", os.Getenv("ENROLLBOT_HANDOFF_TEXT"), "what the bot says about reaching IT when it cannot hand over itself (ENROLLBOT_HANDOFF_TEXT)")
	rateLimit := fs.Int("rate-limit", envInt("ENROLLBOT_RATE_LIMIT", 20), "messages per user per minute (ENROLLBOT_RATE_LIMIT)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return cli.ExitError{Code: 2, Msg: usage}
	}
	lang, ok := kb.LangFromLocale(*defaultLang)
	if !ok {
		return cli.ExitError{Code: 2, Msg: fmt.Sprintf("enrollbotd serve: ENROLLBOT_DEFAULT_LANG %q: want en, nl, sv or de", *defaultLang)}
	}
	if *rateLimit < 1 {
		return cli.ExitError{Code: 2, Msg: fmt.Sprintf("enrollbotd serve: ENROLLBOT_RATE_LIMIT %d: want at least 1", *rateLimit)}
	}
	cfg := serveConfig{
		addr:            *addr,
		shutdownTimeout: *grace,
		redisURL:        *redisURL,
		defaultLang:     lang,
		rateLimit:       *rateLimit,
		handoffText:     *handoff,
		metricsAddr:     *metricsAddr,
		slack: slackConfig{
			apiURL:        *apiURL,
			botToken:      os.Getenv("SLACK_BOT_TOKEN"),
			signingSecret: os.Getenv("SLACK_SIGNING_SECRET"),
			appToken:      os.Getenv("SLACK_APP_TOKEN"),
		},
		teams: teamsConfig{
			appID:       os.Getenv("MICROSOFT_APP_ID"),
			password:    os.Getenv("MICROSOFT_APP_PASSWORD"),
			tenantID:    os.Getenv("MICROSOFT_APP_TENANT_ID"),
			noAuth:      *noAuth,
			metadataURL: *metadataURL,
			tokenURL:    *tokenURL,
		},
	}
	if err := cfg.check(); err != nil {
		return cli.ExitError{Code: 2, Msg: "enrollbotd serve: " + err.Error()}
	}
	return serve(ctx, cfg, stdout, logger)
}

// check tells a configuration that cannot work before anything starts.
func (c *serveConfig) check() error {
	s := &c.slack
	s.enabled = s.botToken != "" || s.signingSecret != "" || s.appToken != ""
	t := &c.teams
	t.enabled = t.appID != "" || t.noAuth
	if !s.enabled && !t.enabled {
		if t.password != "" || t.tenantID != "" {
			return errors.New("MICROSOFT_APP_ID is required with MICROSOFT_APP_PASSWORD or MICROSOFT_APP_TENANT_ID")
		}
		return errors.New("nothing to serve: configure Slack (SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN), " +
			"Microsoft Teams (MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD; --teams-insecure-no-auth for local testing), or both")
	}
	if s.enabled {
		if s.botToken == "" {
			return errors.New("SLACK_BOT_TOKEN (xoxb-…) is required to serve Slack")
		}
		if s.appToken != "" && !strings.HasPrefix(s.appToken, "xapp-") {
			return errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope")
		}
		if s.appToken == "" && s.signingSecret == "" {
			return errors.New("SLACK_SIGNING_SECRET is required to serve Slack over HTTP (or set SLACK_APP_TOKEN=xapp-… for Socket Mode)")
		}
		if s.apiURL == "" {
			return errors.New("--slack-api-url is empty")
		}
		if !strings.HasSuffix(s.apiURL, "/") {
			s.apiURL += "/"
		}
	}
	switch {
	case t.appID != "" && t.noAuth:
		return errors.New("--teams-insecure-no-auth is for local testing without credentials: unset it, or MICROSOFT_APP_ID")
	case t.appID != "" && t.password == "":
		return errors.New("MICROSOFT_APP_PASSWORD (the app's client secret) is required with MICROSOFT_APP_ID")
	case t.appID == "" && (t.password != "" || t.tenantID != ""):
		return errors.New("MICROSOFT_APP_ID is required with MICROSOFT_APP_PASSWORD or MICROSOFT_APP_TENANT_ID")
	}
	return nil
}

// serve runs the HTTP server (health check; the Slack endpoints when there
// is a signing secret; the Teams messaging endpoint when Teams is
// configured) and Slack's Socket Mode (when there is an app token) until
// ctx ends, then shuts down: the server stops accepting, and replies in
// flight get shutdownTimeout to finish.
func serve(ctx context.Context, cfg serveConfig, stdout io.Writer, logger *slog.Logger) error {
	st, err := openState(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.close()
	cat, err := kb.LoadBuiltin()
	if err != nil {
		return fmt.Errorf("load built-in catalog: %w", err)
	}
	bundle, err := locales.Builtin()
	if err != nil {
		return fmt.Errorf("load wording: %w", err)
	}
	obs := metrics.New()
	// A server builds every language's index before its first request; a
	// one-off ask builds only what its query needs.
	matcher := kb.NewMatcher(cat)
	matcher.Warm()
	engine, err := bot.New(bot.Config{Matcher: matcher, Bundle: bundle,
		DefaultLang: cfg.defaultLang, HandoffText: cfg.handoffText, Logger: logger})
	if err != nil {
		return err
	}
	// The experts channel is made before the Slack bot: the desk that
	// posts to it belongs to the sessions the bot needs.
	var experts *slackbot.Experts
	var channels []itsm.Tracker
	if ch := os.Getenv("ENROLLBOT_SLACK_EXPERTS_CHANNEL"); ch != "" {
		if !cfg.slack.enabled {
			return errors.New("enrollbotd serve: ENROLLBOT_SLACK_EXPERTS_CHANNEL needs Slack configured")
		}
		elang, ok := kb.LangFromLocale(envOr("ENROLLBOT_EXPERTS_LANG", "en"))
		if !ok {
			return fmt.Errorf("enrollbotd serve: ENROLLBOT_EXPERTS_LANG %q: want en, nl, sv or de", os.Getenv("ENROLLBOT_EXPERTS_LANG"))
		}
		experts = slackbot.NewExperts(ch, elang)
		channels = append(channels, experts)
	}
	var teamsExperts *teamsbot.Experts
	if envBool("ENROLLBOT_TEAMS_EXPERTS") {
		if !cfg.teams.enabled {
			return errors.New("enrollbotd serve: ENROLLBOT_TEAMS_EXPERTS needs Teams configured")
		}
		elang, ok := kb.LangFromLocale(envOr("ENROLLBOT_EXPERTS_LANG", "en"))
		if !ok {
			return fmt.Errorf("enrollbotd serve: ENROLLBOT_EXPERTS_LANG %q: want en, nl, sv or de", os.Getenv("ENROLLBOT_EXPERTS_LANG"))
		}
		teamsExperts = teamsbot.NewExperts(elang)
		channels = append(channels, teamsExperts)
	}
	// Each chat adapter tells its own users news of their tickets; the
	// set is filled as the adapters are made.
	notifiers := &bot.Notifiers{}
	desk, err := newDesk(os.Getenv, st.tickets, st.dedupe, obs, logger, channels...)
	if err != nil {
		return fmt.Errorf("enrollbotd serve: %w", err)
	}
	// A nil *itsm.Desk must not become a non-nil interface.
	var sessionsDesk bot.Desk
	var ticketDesk bot.TicketDesk
	if desk != nil {
		sessionsDesk, ticketDesk = desk, desk
	}
	sessions, err := bot.NewSessions(bot.SessionsConfig{Engine: engine, Store: st.store, Preferences: st.prefs,
		Limiter: st.limiter, Starter: st.starter, Unanswered: st.unanswered, Feedback: st.feedback, Desk: sessionsDesk, Observer: obs, Logger: logger})
	if err != nil {
		return err
	}
	dedupe := st.dedupe

	mux := http.NewServeMux()
	mux.Handle("GET /healthz", obs.Instrument("ops", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})))
	mux.Handle("GET /readyz", obs.Instrument("ops", readiness(st.ping, logger)))
	if cfg.metricsAddr == "" {
		mux.Handle("GET /metrics", obs.Handler())
	}
	var served []string
	var shutdowns []func(context.Context) error

	var sb *slackbot.Bot
	var api *slack.Client
	if cfg.slack.enabled {
		opts := []slack.Option{slack.OptionAPIURL(cfg.slack.apiURL), slack.OptionHTTPClient(delivery.PooledClient(slackbot.DefaultMaxConcurrent, 15*time.Second))}
		if cfg.slack.appToken != "" {
			opts = append(opts, slack.OptionAppLevelToken(cfg.slack.appToken))
		}
		api = slack.New(cfg.slack.botToken, opts...)
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		auth, err := api.AuthTestContext(actx)
		cancel()
		if err != nil {
			return fmt.Errorf("slack auth.test with SLACK_BOT_TOKEN: %w", err)
		}
		slackQueue, err := st.replyQueue(ctx, "slack")
		if err != nil {
			return err
		}
		sb, err = slackbot.New(slackbot.Config{
			Sessions:      sessions,
			Dedupe:        dedupe,
			Queue:         slackQueue,
			API:           api,
			SigningSecret: cfg.slack.signingSecret,
			BotUserID:     auth.UserID,
			DefaultLang:   cfg.defaultLang,
			Observer:      obs,
			Logger:        logger,
			Experts:       experts,
			Gaps:          st.unanswered,
			Tickets:       ticketDesk,
			Notify:        notifiers,
		})
		if err != nil {
			return err
		}
		var modes []string
		if cfg.slack.signingSecret != "" {
			h, err := sb.Handler()
			if err != nil {
				return err
			}
			mux.Handle("/slack/", obs.Instrument("slack", h))
			modes = append(modes, "HTTP endpoints "+slackbot.PathEvents+", "+slackbot.PathCommands+", "+slackbot.PathInteractions)
		}
		if cfg.slack.appToken != "" {
			modes = append(modes, "Socket Mode")
		}
		served = append(served, fmt.Sprintf("Slack as %s (%s)", auth.User, strings.Join(modes, "; ")))
		shutdowns = append(shutdowns, sb.Shutdown)
	}

	// Users are told news of their tickets from outside the chat by the
	// adapter of their conversation.
	if sb != nil {
		notifiers.Add(sb)
	}
	if desk != nil {
		desk.SetNotifier(notifiers)
	}
	if secret := os.Getenv("ENROLLBOT_TICKET_STATUS_SECRET"); secret != "" && desk != nil {
		// Service desks report resolved tickets here.
		mux.Handle("POST "+itsm.PathStatus, obs.Instrument("tickets",
			&itsm.StatusHandler{Secret: secret, Desk: desk, Notifier: notifiers, Logger: logger}))
	}

	if cfg.teams.enabled {
		teamsQueue, err := st.replyQueue(ctx, "teams")
		if err != nil {
			return err
		}
		tb, err := teamsbot.New(teamsbot.Config{
			Sessions:          sessions,
			Dedupe:            dedupe,
			Queue:             teamsQueue,
			AppID:             cfg.teams.appID,
			AppPassword:       cfg.teams.password,
			TenantID:          cfg.teams.tenantID,
			InsecureNoAuth:    cfg.teams.noAuth,
			OpenIDMetadataURL: cfg.teams.metadataURL,
			TokenURL:          cfg.teams.tokenURL,
			Observer:          obs,
			Logger:            logger,
			Experts:           teamsExperts,
			Settings:          st.settings,
			Tickets:           ticketDesk,
			Notify:            notifiers,
		})
		if err != nil {
			return err
		}
		mux.Handle(teamsbot.Path, obs.Instrument("teams", tb.Handler()))
		if tb.Authenticated() {
			tenant := cfg.teams.tenantID
			if tenant == "" {
				tenant = "multi-tenant"
			}
			served = append(served, fmt.Sprintf("Microsoft Teams as app %s, %s (POST %s)", cfg.teams.appID, tenant, teamsbot.Path))
		} else {
			fmt.Fprintf(stdout, "enrollbot: WARNING: Microsoft Teams is served WITHOUT AUTHENTICATION (--teams-insecure-no-auth): "+
				"anyone who reaches %s can make the bot answer, and replies go to loopback service URLs only. "+
				"For local testing with the Bot Framework Emulator; never expose this.\n", teamsbot.Path)
			logger.Warn("teams authentication is off: local testing only", "path", teamsbot.Path)
			served = append(served, fmt.Sprintf("Microsoft Teams WITHOUT AUTHENTICATION (POST %s)", teamsbot.Path))
		}
		shutdowns = append(shutdowns, tb.Shutdown)
		notifiers.Add(tb)
	}

	srv := newServer(mux, logger)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	// Idle keep-alive connections must not use up the file descriptors:
	// past the cap, new connections wait for one to close.
	ln = netutil.LimitListener(ln, maxConns)
	metricsAt := "/metrics"
	if cfg.metricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (metrics): %w", cfg.metricsAddr, err)
		}
		metricsAt = "/metrics on " + mln.Addr().String()
		mmux := http.NewServeMux()
		mmux.Handle("GET /metrics", obs.Handler())
		metricsSrv := newServer(mmux, logger)
		go func() { _ = metricsSrv.Serve(netutil.LimitListener(mln, 64)) }()
		defer metricsSrv.Close()
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	outboxDone := make(chan struct{})
	if desk != nil {
		// The outbox: tickets a tracker refused are offered again, also
		// the ones an earlier process left pending.
		go func() {
			defer close(outboxDone)
			desk.Run(runCtx, outboxInterval)
		}()
	} else {
		close(outboxDone)
	}
	socketDone := make(chan struct{})
	if sb != nil && cfg.slack.appToken != "" {
		smc := socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(logger.Handler(), slog.LevelDebug)))
		go func() {
			defer close(socketDone)
			if err := sb.RunSocketMode(runCtx, smc); err != nil {
				errc <- err
			}
		}()
	} else {
		close(socketDone)
	}
	// Building the indexes and the adapters leaves about as much garbage
	// as they keep: hand it back now rather than carry it as idle RSS
	// until the heap grows.
	debug.FreeOSMemory()
	fmt.Fprintf(stdout, "enrollbot: serving %s on %s; state %s; /healthz, /readyz; %s\n",
		strings.Join(served, " and "), ln.Addr(), st.where, metricsAt)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	fmt.Fprintln(stdout, "enrollbot: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("http server shutdown", "err", err)
	}
	stop()
	<-socketDone
	<-outboxDone
	// Each platform's replies in flight get the same bound, at once.
	var wg sync.WaitGroup
	for _, shutdown := range shutdowns {
		wg.Go(func() {
			if err := shutdown(sctx); err != nil {
				logger.Warn("shutdown", "err", err)
			}
		})
	}
	wg.Wait()
	return runErr
}

// outboxInterval is how often pending tickets are offered to their
// trackers again.
const outboxInterval = time.Minute

// state is where the bot keeps what outlives a request: in memory for one
// replica, in Redis for several.
type state struct {
	store    bot.Store
	prefs    bot.Preferences
	dedupe   bot.Dedupe
	feedback bot.FeedbackStore
	limiter  bot.RateLimiter
	// starter reads a turn's start in one round trip; nil in memory.
	starter    bot.TurnStarter
	unanswered bot.UnansweredLog
	tickets    bot.Tickets
	settings   bot.Settings
	// queue returns the durable reply queue called name; nil in memory,
	// where each adapter keeps its queue in process.
	queue func(ctx context.Context, name string) (queue.Backend, error)
	// ping checks the shared store for readiness; nil in memory.
	ping  func(context.Context) error
	where string
	close func()
}

func openState(ctx context.Context, cfg serveConfig) (*state, error) {
	if cfg.redisURL == "" {
		return &state{
			store: bot.NewMemoryStore(), prefs: bot.NewMemoryPreferences(), dedupe: bot.NewMemoryDedupe(),
			feedback: bot.NewMemoryFeedback(), limiter: bot.NewMemoryLimiter(cfg.rateLimit, time.Minute),
			unanswered: bot.NewMemoryUnanswered(), tickets: bot.NewMemoryTickets(), settings: &bot.MemorySettings{}, where: "in memory (one replica)", close: func() {},
		}, nil
	}
	rs, err := redisstore.Open(ctx, cfg.redisURL, redisstore.Options{RateLimit: cfg.rateLimit, RateWindow: time.Minute})
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	consumer := replicaName()
	return &state{store: rs, prefs: rs, dedupe: rs, feedback: rs, limiter: rs, starter: rs, unanswered: rs, tickets: rs, settings: rs,
		queue: func(ctx context.Context, name string) (queue.Backend, error) {
			return rs.Queue(ctx, name, consumer, redisstore.QueueOptions{})
		},
		ping: rs.Ping, where: "in Redis", close: func() { _ = rs.Close() }}, nil
}

// replicaName names this process among the reply queue's consumers:
// unique, and telling in Redis which replica holds a job.
func replicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%04x", cmp.Or(host, "enrollbot"), os.Getpid(), rand.N(1<<16))
}

// replyQueue returns the reply queue of the adapter called name: durable
// in Redis, or nil for the adapter's own in process.
func (st *state) replyQueue(ctx context.Context, name string) (queue.Backend, error) {
	if st.queue == nil {
		return nil, nil
	}
	q, err := st.queue(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reply queue %s: %w", name, err)
	}
	return q, nil
}

// readiness answers 200 when the bot can answer: the catalog is loaded
// (serve does not start otherwise) and the shared store, if any, answers.
// Bounds of the HTTP server.
const (
	// maxConns caps open connections, idle keep-alives included.
	maxConns = 4096
	// maxHeaderBytes caps request headers: Slack's and the Bot Framework's
	// are a few kilobytes.
	maxHeaderBytes = 64 << 10
)

// newServer returns an HTTP server with enrollbot's timeouts and bounds.
func newServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

func readiness(ping func(context.Context) error, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if ping != nil {
			ctx, cancel := context.WithTimeout(r.Context(), time.Second)
			defer cancel()
			if err := ping(ctx); err != nil {
				// The reason goes to the log, not to whoever asks: it names
				// the Redis address.
				logger.Warn("not ready", "err", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "not ready: shared state unreachable\n")
				return
			}
		}
		_, _ = io.WriteString(w, "ready\n")
	})
}
