package teamsbot

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/itsm"
)

func TestTeamsUserHandoffAndNews(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"ref":"HD-7"}`)
	}))
	defer hook.Close()
	tickets := bot.NewMemoryTickets()
	desk, err := itsm.NewDesk(itsm.DeskConfig{Tickets: tickets, Trackers: []itsm.Tracker{
		&itsm.Webhook{URL: hook.URL, Secret: "s", Client: hook.Client(), NewID: itsm.NewID}}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, false, func(c *Config) { c.Sessions = deskSessions(t, desk) })
	for _, text := range []string{"Enrollment fails with 0x80180014", "talk to a person"} {
		h.post(personal(h.conn.serviceURL(), text))
	}
	if got := h.last().texts(t); !strings.Contains(got, "Send to IT") {
		t.Fatalf("no confirmation card: %s", got)
	}
	h.post(personal(h.conn.serviceURL(), "yes"))
	if got := h.last().texts(t); !strings.Contains(got, "HD-7") {
		t.Fatalf("the ticket reference was not given: %s", got)
	}
	tk, ok, _ := tickets.TicketOf(context.Background(), "teams:"+personalConv)
	if !ok || tk.Reach != h.conn.serviceURL() {
		t.Fatalf("ticket %+v does not keep how to reach the chat", tk)
	}

	n := len(h.calls())
	if told, err := h.bot.TicketNews(context.Background(), tk, bot.TicketResolved); !told || err != nil {
		t.Fatalf("resolved news: told %v, %v", told, err)
	}
	if told, err := h.bot.RelayToUser(context.Background(), tk, "", "Try <b>again</b> now"); !told || err != nil {
		t.Fatalf("relay: told %v, %v", told, err)
	}
	calls := h.calls()[n:]
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	for i, want := range []string{"HD-7 was resolved in the service desk", "IT (HD-7):\nTry <b>again</b> now"} {
		c := calls[i]
		if c.Method != http.MethodPost || !strings.Contains(c.Path, "/v3/conversations/") || c.Body["textFormat"] != "plain" ||
			!strings.Contains(c.Body["text"].(string), want) {
			t.Errorf("call %d: %s %s %v; want plain text with %q", i, c.Method, c.Path, c.Body, want)
		}
	}
	// A Slack conversation is not Teams' to tell.
	if told, _ := h.bot.TicketNews(context.Background(), bot.TicketRecord{Conversation: "slack:D1", Reach: "x"}, bot.TicketResolved); told {
		t.Error("Teams claimed a Slack user")
	}
}

// deskSessions are sessions over the built-in engine that hand off to desk.
func deskSessions(t testing.TB, desk bot.Desk) *bot.Sessions {
	t.Helper()
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: newEngine(t), Store: bot.NewMemoryStore(), Desk: desk})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
