package itsm

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

// PathStatus is where service desks report a ticket's status.
const PathStatus = "/tickets/status"

// maxStatusBody bounds a status request: Jira's issue webhooks carry the
// whole issue, a few tens of kilobytes.
const maxStatusBody = 1 << 20

// StatusHandler takes status reports from service desks and tells the
// ticket's user when their ticket is resolved. A request is authenticated
// by the shared secret, either as "Authorization: Bearer <secret>" (Jira
// automation's "Send web request", a ServiceNow business rule) or as
// "X-Hub-Signature: sha256=<HMAC of the body>" (a Jira Cloud webhook with a
// secret). Two bodies are understood:
//
//	{"ref": "INC0010001", "status": "resolved"}        any desk
//	{"webhookEvent": "jira:issue_updated",
//	 "issue": {"key": "ENR-12", "fields": {"status": {"statusCategory": {"key": "done"}}}}}
//
// A status other than resolved (or a Jira status category other than
// done) is acknowledged and ignored.
type StatusHandler struct {
	Secret   string
	Desk     *Desk
	Notifier bot.TicketNotifier
	Logger   *slog.Logger
}

type statusBody struct {
	Ref    string `json:"ref"`
	Status string `json:"status"`
	Event  string `json:"webhookEvent"`
	Issue  *struct {
		Key    string `json:"key"`
		Fields struct {
			Status struct {
				Name           string `json:"name"`
				StatusCategory struct {
					Key string `json:"key"`
				} `json:"statusCategory"`
			} `json:"status"`
		} `json:"fields"`
	} `json:"issue"`
}

// resolved returns the reference a body reports resolved; ok is false
// for any other news.
func (b statusBody) resolved() (ref string, ok bool) {
	if b.Issue != nil {
		return b.Issue.Key, b.Issue.Fields.Status.StatusCategory.Key == "done"
	}
	switch strings.ToLower(strings.TrimSpace(b.Status)) {
	case "resolved", "closed", "done":
		return strings.TrimSpace(b.Ref), true
	}
	return strings.TrimSpace(b.Ref), false
}

func (h *StatusHandler) authentic(r *http.Request, body []byte) bool {
	if h.Secret == "" {
		return false
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return subtle.ConstantTimeCompare([]byte(tok), []byte(h.Secret)) == 1
	}
	if sig := r.Header.Get("X-Hub-Signature"); sig != "" {
		return Verify(h.Secret, body, sig)
	}
	return false
}

// ServeHTTP implements http.Handler.
func (h *StatusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStatusBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if !h.authentic(r, body) {
		log.Warn("ticket status rejected: bad or missing secret", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var b statusBody
	if err := json.Unmarshal(body, &b); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	ref, resolved := b.resolved()
	if ref == "" {
		http.Error(w, "no ticket reference", http.StatusBadRequest)
		return
	}
	if !resolved {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	t, changed, err := h.Desk.Mark(ctx, ref, bot.TicketResolved, "desk", false)
	if err != nil {
		if errors.Is(err, ErrNoTicket) {
			// Not one of the bot's tickets: the desk's rule may fire for all.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		log.Error("ticket status", "ref", ref, "err", err)
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	// A repeated report (desks retry) tells the user once.
	if changed && h.Notifier != nil {
		told, err := h.Notifier.TicketNews(ctx, t, bot.TicketResolved)
		switch {
		case err != nil:
			log.Warn("tell ticket user", "ticket", t.Ref, "err", err)
		case !told:
			log.Info("ticket user not reachable from here", "ticket", t.Ref, "conversation", t.Conversation)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
