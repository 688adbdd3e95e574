package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/enrollbot/enrollbot/bot"
	slackbot "github.com/enrollbot/enrollbot/bot/slack"
	"github.com/enrollbot/enrollbot/locales"
)

// serveConfig is what `enrollbot serve` runs with.
type serveConfig struct {
	addr            string
	apiURL          string
	botToken        string
	signingSecret   string
	appToken        string
	shutdownTimeout time.Duration
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// runServe parses `enrollbot serve`'s flags; tokens and the signing secret
// come from the environment only, where they do not show in process lists.
func runServe(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", envOr("ENROLLBOT_ADDR", ":8080"), "listen address for /healthz and the Slack endpoints (ENROLLBOT_ADDR)")
	apiURL := fs.String("slack-api-url", envOr("SLACK_API_URL", "https://slack.com/api/"), "Slack Web API base URL (SLACK_API_URL)")
	grace := fs.Duration("shutdown-timeout", 20*time.Second, "how long shutdown waits for replies in flight")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return exitError{2, usage}
	}
	cfg := serveConfig{
		addr:            *addr,
		apiURL:          *apiURL,
		botToken:        os.Getenv("SLACK_BOT_TOKEN"),
		signingSecret:   os.Getenv("SLACK_SIGNING_SECRET"),
		appToken:        os.Getenv("SLACK_APP_TOKEN"),
		shutdownTimeout: *grace,
	}
	if err := cfg.check(); err != nil {
		return exitError{2, "enrollbot serve: " + err.Error()}
	}
	return serve(ctx, cfg, stdout, logger)
}

// check tells a configuration that cannot work before anything starts.
func (c *serveConfig) check() error {
	if c.botToken == "" {
		return errors.New("SLACK_BOT_TOKEN (xoxb-…) is required")
	}
	if c.appToken != "" && !strings.HasPrefix(c.appToken, "xapp-") {
		return errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope")
	}
	if c.appToken == "" && c.signingSecret == "" {
		return errors.New("SLACK_SIGNING_SECRET is required to serve Slack over HTTP (or set SLACK_APP_TOKEN=xapp-… for Socket Mode)")
	}
	if c.apiURL == "" {
		return errors.New("--slack-api-url is empty")
	}
	if !strings.HasSuffix(c.apiURL, "/") {
		c.apiURL += "/"
	}
	return nil
}

// serve runs the HTTP server (health check, and the Slack endpoints when
// there is a signing secret) and Socket Mode (when there is an app token)
// until ctx ends, then shuts down: the server stops accepting, and replies
// in flight get shutdownTimeout to finish.
func serve(ctx context.Context, cfg serveConfig, stdout io.Writer, logger *slog.Logger) error {
	store := bot.NewMemoryStore()
	engine, err := bot.NewBuiltin(store, logger)
	if err != nil {
		return err
	}
	bundle, err := locales.Bundle(locales.Files())
	if err != nil {
		return fmt.Errorf("load wording: %w", err)
	}
	opts := []slack.Option{slack.OptionAPIURL(cfg.apiURL), slack.OptionHTTPClient(&http.Client{Timeout: 15 * time.Second})}
	if cfg.appToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.appToken))
	}
	api := slack.New(cfg.botToken, opts...)

	actx, cancel := context.WithTimeout(ctx, 15*time.Second)
	auth, err := api.AuthTestContext(actx)
	cancel()
	if err != nil {
		return fmt.Errorf("slack auth.test with SLACK_BOT_TOKEN: %w", err)
	}

	b, err := slackbot.New(slackbot.Config{
		Engine:        engine,
		Bundle:        bundle,
		Store:         store,
		API:           api,
		SigningSecret: cfg.signingSecret,
		BotUserID:     auth.UserID,
		Logger:        logger,
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	var modes []string
	if cfg.signingSecret != "" {
		h, err := b.Handler()
		if err != nil {
			return err
		}
		mux.Handle("/slack/", h)
		modes = append(modes, "HTTP endpoints "+slackbot.PathEvents+", "+slackbot.PathCommands+", "+slackbot.PathInteractions)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	socketDone := make(chan struct{})
	if cfg.appToken != "" {
		modes = append(modes, "Socket Mode")
		smc := socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(logger.Handler(), slog.LevelDebug)))
		go func() {
			defer close(socketDone)
			if err := b.RunSocketMode(runCtx, smc); err != nil {
				errc <- err
			}
		}()
	} else {
		close(socketDone)
	}
	fmt.Fprintf(stdout, "enrollbot: serving Slack as %s on %s (%s); health check at /healthz\n",
		auth.User, ln.Addr(), strings.Join(modes, "; "))

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
	if err := b.Shutdown(sctx); err != nil {
		logger.Warn("slack shutdown", "err", err)
	}
	return runErr
}
