package itsm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/itsm"
)

type newsRecorder struct {
	mu     sync.Mutex
	news   []bot.TicketRecord // resolved
	opened []bot.TicketRecord
}

func (n *newsRecorder) TicketNews(_ context.Context, t bot.TicketRecord, news bot.TicketState) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch news {
	case bot.TicketResolved:
		n.news = append(n.news, t)
	case bot.TicketOpen:
		n.opened = append(n.opened, t)
	}
	return true, nil
}

func TestStatusFromServiceDesk(t *testing.T) {
	srv := httptest.NewServer(&fakeJira{})
	defer srv.Close()
	tickets := bot.NewMemoryTickets()
	d, _ := itsm.NewDesk(itsm.DeskConfig{Tickets: tickets, Trackers: []itsm.Tracker{
		&itsm.Jira{BaseURL: srv.URL, Email: "bot@example.com", Token: "tok", Project: "ENR", Client: srv.Client()}}})
	if _, err := d.HandOff(context.Background(), handoff("slack:D1")); err != nil {
		t.Fatal(err)
	}
	n := &newsRecorder{}
	h := &itsm.StatusHandler{Secret: "shh", Desk: d, Notifier: n}
	jiraDone := `{"webhookEvent":"jira:issue_updated","issue":{"key":"ENR-1","fields":{"status":{"name":"Done","statusCategory":{"key":"done"}}}}}`
	jiraOpen := strings.Replace(jiraDone, `"key":"done"`, `"key":"indeterminate"`, 1)
	tests := []struct {
		name     string
		body     string
		header   map[string]string
		want     int
		wantNews int
	}{
		{"no secret", `{"ref":"ENR-1","status":"resolved"}`, nil, http.StatusUnauthorized, 0},
		{"wrong bearer", `{"ref":"ENR-1","status":"resolved"}`, map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized, 0},
		{"bad signature", jiraDone, map[string]string{"X-Hub-Signature": itsm.Sign("other", []byte(jiraDone))}, http.StatusUnauthorized, 0},
		{"jira in progress", jiraOpen, map[string]string{"X-Hub-Signature": itsm.Sign("shh", []byte(jiraOpen))}, http.StatusNoContent, 0},
		{"not ours", `{"ref":"ENR-999","status":"resolved"}`, map[string]string{"Authorization": "Bearer shh"}, http.StatusNoContent, 0},
		{"jira done", jiraDone, map[string]string{"X-Hub-Signature": itsm.Sign("shh", []byte(jiraDone))}, http.StatusNoContent, 1},
		{"repeated", `{"ref":"ENR-1","status":"Resolved"}`, map[string]string{"Authorization": "Bearer shh"}, http.StatusNoContent, 1},
		{"no ref", `{"status":"resolved"}`, map[string]string{"Authorization": "Bearer shh"}, http.StatusBadRequest, 1},
	}
	for _, tc := range tests {
		req := httptest.NewRequest(http.MethodPost, itsm.PathStatus, strings.NewReader(tc.body))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want || len(n.news) != tc.wantNews {
			t.Errorf("%s: status %d, %d user(s) told; want %d, %d", tc.name, rec.Code, len(n.news), tc.want, tc.wantNews)
		}
	}
	if tk, _, _ := tickets.TicketOf(context.Background(), "slack:D1"); tk.State != bot.TicketResolved || n.news[0].Conversation != "slack:D1" {
		t.Errorf("ticket after the desk resolved it: %+v", tk)
	}
}

func TestOutboxRetriesPendingTicketsAfterRestart(t *testing.T) {
	f := &fakeJira{failN: 100}
	srv := httptest.NewServer(f)
	defer srv.Close()
	jira := &itsm.Jira{BaseURL: srv.URL, Email: "bot@example.com", Token: "tok", Project: "ENR", Client: srv.Client()}
	tickets := bot.NewMemoryTickets() // stands for Redis: it outlives the desk
	first, _ := itsm.NewDesk(itsm.DeskConfig{Tickets: tickets, Trackers: []itsm.Tracker{jira}, NewID: func() string { return "EB-P1" }})
	if _, err := first.HandOff(context.Background(), handoff("slack:D1")); !errors.Is(err, bot.ErrHandoffPending) {
		t.Fatalf("a hand-off no tracker took: err %v, want it pending", err)
	}
	tk, ok, _ := tickets.TicketOf(context.Background(), "slack:D1")
	if !ok || len(tk.Pending) != 1 || tk.Body == "" {
		t.Fatalf("the failed hand-off was not kept for retry: %+v", tk)
	}
	// A new process, Jira back.
	f.mu.Lock()
	f.failN = 0
	f.mu.Unlock()
	n := &newsRecorder{}
	second, _ := itsm.NewDesk(itsm.DeskConfig{Tickets: tickets, Trackers: []itsm.Tracker{jira}, Dedupe: bot.NewMemoryDedupe()})
	second.SetNotifier(n)
	if err := second.RetryPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := second.RetryPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	tk, _, _ = tickets.TicketOf(context.Background(), "slack:D1")
	if tk.Ref != "ENR-1" || len(tk.Pending) != 0 || len(f.creates) != 1 {
		t.Errorf("after the retry: %+v, %d issue(s) created", tk, len(f.creates))
	}
	if len(n.news) != 0 || len(n.opened) != 1 || n.opened[0].Ref != "ENR-1" || n.opened[0].Conversation != "slack:D1" {
		t.Errorf("user told resolved %v, opened %v: want told once that ENR-1 exists", n.news, n.opened)
	}
}

func (n *newsRecorder) RelayToUser(context.Context, bot.TicketRecord, string, string) (bool, error) {
	return false, nil
}

// channelFake is a channel tracker that records comments.
type channelFake struct {
	mu       sync.Mutex
	comments []string
}

func (c *channelFake) Name() string { return "fake-channel" }
func (c *channelFake) Create(context.Context, itsm.Issue) (string, error) {
	return "card-1", nil
}
func (c *channelFake) Comment(_ context.Context, ref, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.comments = append(c.comments, ref+"|"+text)
	return nil
}

func TestRelayOnlyTheAskingUserWhileOpen(t *testing.T) {
	ch := &channelFake{}
	d, _ := itsm.NewDesk(itsm.DeskConfig{Channels: []itsm.Tracker{ch}})
	ctx := context.Background()
	if err := d.Relay(ctx, "slack:C1:1.2", "slack:U1", "before any ticket"); err != nil {
		t.Fatal(err)
	}
	h := handoff("slack:C1:1.2")
	if _, err := d.HandOff(ctx, h); err != nil {
		t.Fatal(err)
	}
	_ = d.Relay(ctx, "slack:C1:1.2", "slack:U2", "a colleague's remark")
	_ = d.Relay(ctx, "slack:C1:1.2", "slack:U1", "the user's detail")
	tk, _, _ := d.Ticket(ctx, "card-1")
	if _, _, err := d.Mark(ctx, tk.Ref, bot.TicketResolved, "slack:U9", false); err != nil {
		t.Fatal(err)
	}
	_ = d.Relay(ctx, "slack:C1:1.2", "slack:U1", "after resolved")
	if len(ch.comments) != 1 || ch.comments[0] != "card-1|» the user's detail" {
		t.Errorf("relayed %q: want only the asking user's message while open", ch.comments)
	}
}

// gateTracker blocks creates for conversation slow until released.
type gateTracker struct {
	slow    string
	release chan struct{}
}

func (g *gateTracker) Name() string { return "gate" }
func (g *gateTracker) Create(ctx context.Context, i itsm.Issue) (string, error) {
	if i.Conversation == g.slow {
		<-g.release
	}
	return "G-" + i.Conversation, nil
}
func (g *gateTracker) Comment(context.Context, string, string) error { return nil }

func TestSlowTrackerHoldsUpOnlyItsConversation(t *testing.T) {
	g := &gateTracker{slow: "slack:D1", release: make(chan struct{})}
	d, _ := itsm.NewDesk(itsm.DeskConfig{Trackers: []itsm.Tracker{g}})
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		_, _ = d.HandOff(context.Background(), handoff("slack:D1"))
	}()
	// Another conversation (on another stripe: "slack:D2" and "slack:D1"
	// differ in their FNV hash modulo 64) is not held up.
	done := make(chan error, 1)
	go func() {
		_, err := d.HandOff(context.Background(), handoff("slack:D2"))
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a hand-off waited for another conversation's slow tracker")
	}
	close(g.release)
	<-slowDone
}
