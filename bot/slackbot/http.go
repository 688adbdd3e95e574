package slackbot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/slack-go/slack"
)

// The paths Handler serves; the app manifest (manifest.yaml beside this file) points
// Slack at them.
const (
	PathEvents       = "/slack/events"
	PathCommands     = "/slack/commands"
	PathInteractions = "/slack/interactions"
)

// Handler returns the HTTP handler of Slack's requests: POST /slack/events
// (Events API, url_verification included), POST /slack/commands (slash
// commands) and POST /slack/interactions (button clicks). Every request's
// body is read once, capped at MaxBody, and its signature checked before
// anything in it is parsed; a request that fails is answered 401 and
// logged, never replied to. Work is acknowledged once queued and done
// after.
func (b *Bot) Handler() (http.Handler, error) {
	if b.cfg.SigningSecret == "" {
		return nil, errors.New("slack: a signing secret is required to serve HTTP")
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+PathEvents, b.verified(b.serveEvents))
	mux.Handle("POST "+PathCommands, b.verified(b.serveCommand))
	mux.Handle("POST "+PathInteractions, b.verified(b.serveInteraction))
	return mux, nil
}

// verified reads and verifies a request, then passes its body on.
func (b *Bot) verified(next func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.cfg.MaxBody))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				b.log.Warn("slack request rejected: body too large", "path", r.URL.Path, "remote", r.RemoteAddr, "limit", b.cfg.MaxBody)
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			b.log.Warn("slack request rejected: unreadable body", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := verify(r.Header, body, b.cfg.SigningSecret); err != nil {
			b.log.Warn("slack request rejected: signature", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

// verify checks Slack's v0 signature of body: an HMAC-SHA256 with the
// signing secret over "v0:timestamp:body", with a timestamp at most five
// minutes from now (slack.NewSecretsVerifier).
func verify(h http.Header, body []byte, secret string) error {
	sv, err := slack.NewSecretsVerifier(h, secret)
	if err != nil {
		return fmt.Errorf("verify signature: %w", err)
	}
	if _, err := sv.Write(body); err != nil {
		return fmt.Errorf("verify signature: %w", err)
	}
	if err := sv.Ensure(); err != nil {
		return fmt.Errorf("verify signature: %w", err)
	}
	return nil
}

func (b *Bot) serveEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	env, err := parseEnvelope(body)
	if err != nil {
		b.log.Warn("slack events request", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if env.Type == typeURLVerification {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"challenge": env.Challenge})
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
	if err := b.acceptEvent(r.Context(), env, retry); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (b *Bot) serveCommand(w http.ResponseWriter, r *http.Request, body []byte) {
	c, err := parseCommandForm(body)
	if err != nil {
		b.log.Warn("slack command request", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if err := b.acceptCommand(r.Context(), c); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (b *Bot) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte) {
	ic, err := parseInteractionForm(body)
	if err != nil {
		b.log.Warn("slack interaction request", "err", err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if err := b.acceptInteraction(r.Context(), ic); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}
