package teamsbot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/itsm"
	"github.com/enrollbot/enrollbot/kb"
)

func TestTeamsExpertsChannel(t *testing.T) {
	tickets := bot.NewMemoryTickets()
	settings := &bot.MemorySettings{}
	notifiers := &bot.Notifiers{}
	experts := NewExperts(kb.English)
	desk, err := itsm.NewDesk(itsm.DeskConfig{Tickets: tickets, Channels: []itsm.Tracker{experts}, NewID: func() string { return "EB-T1" }})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, false, func(c *Config) {
		c.Sessions, c.Experts, c.Settings, c.Tickets, c.Notify = deskSessions(t, desk), experts, settings, desk, notifiers
	})
	notifiers.Add(h.bot)
	su := h.conn.serviceURL()

	// Registration, in German.
	h.post(channel(su, "Experten hier", true))
	if got := h.last().texts(t); !strings.Contains(got, "hand-offs") && !strings.Contains(got, "Übergaben") {
		t.Fatalf("registration reply: %s", got)
	}
	if v, ok, _ := settings.Setting(context.Background(), expertsSetting); !ok || !strings.Contains(v, channelConv) {
		t.Fatalf("experts channel not stored: %q", v)
	}

	// A user hands off from their personal chat.
	for _, text := range []string{"Enrollment fails with 0x80180014", "talk to a person", "yes"} {
		h.post(personal(su, text))
	}
	var cardCall call
	cardN := 0
	for i, c := range h.calls() {
		if strings.Contains(c.Path, "/v3/conversations/"+strings.ReplaceAll(channelConv, "@", "%40")+"/activities") ||
			strings.Contains(c.Path, "/v3/conversations/"+channelConv+"/activities") {
			cardCall, cardN = c, i+1
		}
	}
	if cardN == 0 {
		t.Fatalf("no card in the experts channel; calls %v", h.calls())
	}
	if got := cardCall.texts(t); !strings.Contains(got, "EB-T1") || !strings.Contains(got, "0x80180014") || !strings.Contains(got, "[Take it]") ||
		!strings.Contains(got, "Megan Bowen") || strings.Contains(got, testUserAAD) {
		t.Errorf("card: %s", got)
	}
	if got := h.last().texts(t); !strings.Contains(got, "EB-T1") || !strings.Contains(got, "reaches them too") {
		t.Errorf("user reply: %s", got)
	}
	tk, _, _ := tickets.TicketOf(context.Background(), "teams:"+personalConv)
	if !strings.HasPrefix(tk.Refs["teams-experts"], channelConv+";messageid=") {
		t.Fatalf("ticket refs %v", tk.Refs)
	}

	// Take it: the card is redrawn, the user told by name.
	thread := channel(su, "", false)
	thread["conversation"].(map[string]any)["id"] = tk.Refs["teams-experts"]
	var take map[string]any
	for _, a := range cardCall.submits(t) {
		if a["enrollbot"] == ticketTake {
			take = a
		}
	}
	if take == nil {
		t.Fatal("no Take it button")
	}
	n := len(h.calls())
	h.post(submitOf(thread, cardID(cardN), take))
	calls := h.calls()[n:]
	var put, told bool
	for _, c := range calls {
		if c.Method == "PUT" && strings.Contains(c.texts(t), "Taken by Megan Bowen") && !strings.Contains(c.texts(t), "[Take it]") {
			put = true
		}
		if c.Method == "POST" && strings.Contains(c.Path, personalConv) && strings.Contains(c.Body["text"].(string), "Megan Bowen from IT is looking at your problem (EB-T1)") {
			told = true
		}
	}
	if !put || !told {
		t.Errorf("after Take it: card redrawn %v, user told %v; calls %v", put, told, calls)
	}
	if tk, _, _ := tickets.TicketOf(context.Background(), "teams:"+personalConv); tk.State != bot.TicketTaken {
		t.Errorf("ticket state %s", tk.State)
	}

	// An expert's reply in the thread (the bot mentioned) reaches the user.
	reply := channel(su, "Is it a corporate device?", true)
	reply["conversation"].(map[string]any)["id"] = tk.Refs["teams-experts"]
	n = len(h.calls())
	h.post(reply)
	calls = h.calls()[n:]
	if len(calls) != 1 || !strings.Contains(calls[0].Path, personalConv) || !strings.Contains(calls[0].Body["text"].(string), "Is it a corporate device?") {
		t.Errorf("relay: %v", calls)
	}

	// The user's answer reaches the card's thread.
	n = len(h.calls())
	h.post(personal(su, "yes, corporate"))
	var inThread bool
	for _, c := range h.calls()[n:] {
		if strings.Contains(c.Path, "messageid") && strings.Contains(c.Body["text"].(string), "yes, corporate") {
			inThread = true
		}
	}
	if !inThread {
		t.Errorf("the user's message did not reach the experts' thread: %v", h.calls()[n:])
	}
}

func TestDeepLinkOnlyForChannelThreads(t *testing.T) {
	for _, tc := range []struct {
		act  map[string]any
		want string
	}{
		{channel("https://smba.trafficmanager.net/emea/", "x", true), "https://teams.microsoft.com/l/message/19:2a8b5ab3f9d84f2a8e1c8d0f0ab12345@thread.tacv2/"},
		{personal("https://smba.trafficmanager.net/emea/", "x"), ""},
	} {
		raw, _ := json.Marshal(tc.act)
		in, err := parseActivity(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := in.deepLink()
		if tc.want == "" && got != "" || tc.want != "" && (!strings.HasPrefix(got, tc.want) || !strings.Contains(got, "tenantId="+testTenant) ||
			!strings.Contains(got, "parentMessageId="+tc.act["id"].(string))) {
			t.Errorf("deep link %q, want prefix %q with tenant and parent message", got, tc.want)
		}
	}
}
