package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/itsm"
	"github.com/enrollbot/enrollbot/kb"
)

const expertsChannel = "C0EXPERTS"

// withExperts gives the bot an experts channel and sessions whose desk
// posts to it.
func withExperts(t *testing.T, st stores, tickets bot.Tickets) func(*Config) {
	return func(c *Config) {
		x := NewExperts(expertsChannel, kb.English)
		desk, err := itsm.NewDesk(itsm.DeskConfig{Channels: []itsm.Tracker{x}, NewID: func() string { return "EB-TEST1" }, Tickets: tickets})
		if err != nil {
			t.Fatal(err)
		}
		s, err := bot.NewSessions(bot.SessionsConfig{Engine: newEngine(t), Store: st.conv, Preferences: st.prefs,
			Feedback: st.fb, Unanswered: st.unans, Desk: desk})
		if err != nil {
			t.Fatal(err)
		}
		c.Sessions, c.Experts, c.Gaps, c.Tickets = s, x, st.unans, desk
	}
}

// clickCard presses button on the experts' card call, sending the card's
// blocks as Slack does.
func (e *env) clickCard(user string, card apiCall, button map[string]any) {
	e.t.Helper()
	body := clickBody(user, expertsChannel, card.TS, "", false, e.slack.responseURL("card"), button)
	form, _ := url.ParseQuery(string(body))
	var payload map[string]any
	_ = json.Unmarshal([]byte(form.Get("payload")), &payload)
	payload["message"].(map[string]any)["blocks"] = card.blocks(e.t)
	raw, _ := json.Marshal(payload)
	form.Set("payload", string(raw))
	if status, resp := e.post(PathInteractions, "application/x-www-form-urlencoded", []byte(form.Encode()), nil); status != http.StatusOK {
		e.t.Fatalf("click: %d %q", status, resp)
	}
}

func TestHandoffToExpertsChannel(t *testing.T) {
	st := memStores()
	tickets := bot.NewMemoryTickets()
	e := startEnv(t, newFakeSlack(t), st, withExperts(t, st, tickets))
	say := func(id, text, ts string) {
		e.sendEvent(id, messageEvent("D0001", "im", "U0001", text, ts), nil)
		e.idle()
	}
	say("Ev1", "Enrollment fails with 0x80180014 &lt;!channel&gt;", "1700000000.000100")
	say("Ev2", "can I talk to a person?", "1700000000.000200")
	posts := e.slack.byMethod("chat.postMessage")
	confirm := posts[len(posts)-1]
	if confirm.Form.Get("channel") != "D0001" || !hasButton(confirm.blocks(t), actionHandoffSend) {
		t.Fatalf("the request for a person was not answered with Send to IT: %v", confirm.all())
	}
	for _, p := range posts {
		if p.Form.Get("channel") == expertsChannel {
			t.Fatal("the experts channel got the conversation before the user confirmed")
		}
	}
	e.click("U0001", "D0001", confirm.TS, "", false, e.slack.responseURL("send"), findButton(t, confirm.blocks(t), actionHandoffSend))
	e.idle()

	var card, told apiCall
	for _, p := range e.slack.byMethod("chat.postMessage") {
		switch {
		case p.Form.Get("channel") == expertsChannel:
			card = p
		case p.Form.Get("channel") == "D0001" && strings.Contains(p.all(), "EB-TEST1"):
			told = p
		}
	}
	if card.TS == "" || told.TS == "" {
		t.Fatalf("card %v / user told %v: want both", card.all(), told.all())
	}
	if !strings.Contains(told.Form.Get("text"), "reaches them too") {
		t.Errorf("the user was not told that what they write next reaches IT: %q", told.Form.Get("text"))
	}
	all := fmt.Sprint(card.blocks(t))
	for _, want := range []string{"EB-TEST1", "<@U0001>", "0x80180014", "&lt;!channel&gt;"} {
		if !strings.Contains(all, want) {
			t.Errorf("card lacks %q: %s", want, all)
		}
	}
	if strings.Contains(all, "<!channel>") {
		t.Error("the card can ping the channel")
	}

	e.clickCard("U0EXP", card, findButton(t, card.blocks(t), actionTicketTake))
	e.idle()
	updates := e.slack.byMethod("chat.update")
	if len(updates) != 1 || !strings.Contains(updates[0].all(), "Taken by <@U0EXP>") && !strings.Contains(fmt.Sprint(updates[0].blocks(t)), "Taken by <@U0EXP>") || hasButton(updates[0].blocks(t), actionTicketTake) {
		t.Fatalf("after Take it the card is %v", updates)
	}
	last := e.slack.byMethod("chat.postMessage")
	if n := last[len(last)-1]; n.Form.Get("channel") != "D0001" || !strings.Contains(fmt.Sprint(n.blocks(t)), "<@U0EXP> is looking at your problem (EB-TEST1)") {
		t.Errorf("the user was not told who took it: %v", n.all())
	}

	if tk, ok, _ := tickets.TicketOf(context.Background(), "slack:D0001"); !ok || tk.State != bot.TicketTaken || tk.By != "slack:U0EXP" {
		t.Errorf("after Take it the ticket is %+v", tk)
	}
	e.clickCard("U0EXP", card, findButton(t, card.blocks(t), actionTicketResolve))
	e.idle()
	if tk, _, _ := tickets.TicketOf(context.Background(), "slack:D0001"); tk.State != bot.TicketResolved || tk.Resolved.IsZero() {
		t.Errorf("after Resolved the ticket is %+v", tk)
	}
	updates = e.slack.byMethod("chat.update")
	if len(updates) != 2 || hasButton(updates[1].blocks(t), actionTicketResolve) || !strings.Contains(updates[1].all(), "Resolved by") {
		t.Errorf("after Resolved the card is %v", updates[len(updates)-1].all())
	}
	last = e.slack.byMethod("chat.postMessage")
	asked := last[len(last)-1]
	if !strings.Contains(asked.all(), "EB-TEST1 as resolved") || !hasButton(asked.blocks(t), actionSolved) {
		t.Fatalf("the user was not asked whether it is fixed: %v", asked.all())
	}
	// The user's answer is recorded as a verdict on the entry answered.
	e.click("U0001", "D0001", asked.TS, "", false, e.slack.responseURL("fixed"), findButton(t, asked.blocks(t), actionSolved))
	e.idle()
	if c, _ := st.fb.FeedbackCounts(context.Background(), "your-organization-does-not-support-this-version-of-windows"); c.Solved != 1 {
		t.Errorf("the user's answer to 'is it fixed?' was not recorded: %+v", c)
	}

	// The card's buttons do nothing outside the experts channel.
	before := len(e.slack.byMethod("chat.update"))
	e.click("U0002", "C0OTHER", card.TS, "", false, e.slack.responseURL("x"), findButton(t, card.blocks(t), actionTicketResolve))
	e.idle()
	if len(e.slack.byMethod("chat.update")) != before {
		t.Error("a ticket button outside the experts channel changed a card")
	}
}

func TestTicketNewsReachesSlackUsersOnly(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		conv     string
		wantTold bool
		channel  string
		method   string
	}{
		{"slack:D0001", true, "D0001", "chat.postMessage"},
		{"slack:C0001:1700000000.000100", true, "C0001", "chat.postMessage"},
		{"slack:cmd:C0002:U0002", true, "C0002", "chat.postEphemeral"},
		{"teams:a:conv", false, "", ""},
	}
	for _, tc := range tests {
		n := len(e.slack.snapshot())
		told, err := e.bot.TicketNews(context.Background(), bot.TicketRecord{Ref: "INC0010001", Conversation: tc.conv, Lang: kb.Swedish}, bot.TicketResolved)
		if err != nil || told != tc.wantTold {
			t.Errorf("%s: told %v, %v", tc.conv, told, err)
			continue
		}
		calls := e.slack.snapshot()[n:]
		if !tc.wantTold {
			if len(calls) != 0 {
				t.Errorf("%s: %v", tc.conv, methods(calls))
			}
			continue
		}
		if len(calls) != 1 || calls[0].Method != tc.method || calls[0].Form.Get("channel") != tc.channel ||
			!strings.Contains(calls[0].Form.Get("text"), "INC0010001 har lösts") {
			t.Errorf("%s: calls %v", tc.conv, calls)
		}
	}
}

func TestRelayBetweenUserAndExperts(t *testing.T) {
	st := memStores()
	tickets := bot.NewMemoryTickets()
	e := startEnv(t, newFakeSlack(t), st, withExperts(t, st, tickets))
	say := func(id, channel, channelType, user, text, ts, thread string) {
		ev := messageEvent(channel, channelType, user, text, ts)
		if thread != "" {
			ev["thread_ts"] = thread
		}
		e.sendEvent(id, ev, nil)
		e.idle()
	}
	say("Ev1", "D0001", "im", "U0001", "Fout 0x80180014 bij inschrijven", "1700000000.000100", "")
	say("Ev2", "D0001", "im", "U0001", "kan ik iemand van IT spreken?", "1700000000.000200", "")
	say("Ev3", "D0001", "im", "U0001", "ja", "1700000000.000300", "")
	var card apiCall
	for _, p := range e.slack.byMethod("chat.postMessage") {
		if p.Form.Get("channel") == expertsChannel {
			card = p
		}
	}
	if card.TS == "" {
		t.Fatal("no card")
	}
	// Expert → user, in the user's language.
	say("Ev4", expertsChannel, "channel", "U0EXP", "Is the device <b>corporate</b>?", "1700000000.000400", card.TS)
	posts := e.slack.byMethod("chat.postMessage")
	relayed := posts[len(posts)-1]
	if got := fmt.Sprint(relayed.blocks(t)); relayed.Form.Get("channel") != "D0001" || !strings.Contains(got, "<@U0EXP> van IT") ||
		!strings.Contains(got, "&lt;b&gt;corporate&lt;/b&gt;") {
		t.Fatalf("expert's reply relayed as %v to %s", got, relayed.Form.Get("channel"))
	}
	// A top-level message in the experts channel is not relayed nor answered.
	n := len(e.slack.snapshot())
	say("Ev5", expertsChannel, "channel", "U0EXP", "0x80180014 anyone?", "1700000000.000500", "")
	if len(e.slack.snapshot()) != n {
		t.Errorf("a top-level experts message got %v", methods(e.slack.snapshot()[n:]))
	}
	// User → experts' thread.
	say("Ev6", "D0001", "im", "U0001", "ja, het is een bedrijfsapparaat", "1700000000.000600", "")
	var toThread []apiCall
	for _, p := range e.slack.byMethod("chat.postMessage") {
		if p.Form.Get("channel") == expertsChannel && p.Form.Get("thread_ts") == card.TS {
			toThread = append(toThread, p)
		}
	}
	if len(toThread) != 1 || !strings.Contains(toThread[0].Form.Get("text"), "bedrijfsapparaat") {
		t.Fatalf("user's message in the experts' thread: %v", toThread)
	}
	// Once resolved, nothing is relayed either way.
	e.clickCard("U0EXP", card, findButton(t, card.blocks(t), actionTicketResolve))
	e.idle()
	n = len(e.slack.snapshot())
	say("Ev7", expertsChannel, "channel", "U0EXP", "closing this", "1700000000.000700", card.TS)
	if len(e.slack.snapshot()) != n {
		t.Errorf("a reply on a resolved ticket was relayed: %v", methods(e.slack.snapshot()[n:]))
	}
}

// newsCatcher stands for another platform's adapter.
type newsCatcher struct {
	news []bot.TicketRecord
}

func (n *newsCatcher) TicketNews(_ context.Context, t bot.TicketRecord, s bot.TicketState) (bool, error) {
	if !strings.HasPrefix(t.Conversation, "teams:") {
		return false, nil
	}
	n.news = append(n.news, t)
	return true, nil
}

func (n *newsCatcher) RelayToUser(context.Context, bot.TicketRecord, string, string) (bool, error) {
	return false, nil
}

func TestSlackExpertsTellTeamsUsersByName(t *testing.T) {
	st := memStores()
	tickets := bot.NewMemoryTickets()
	catcher := &newsCatcher{}
	e := startEnv(t, newFakeSlack(t), st, withExperts(t, st, tickets), func(c *Config) { c.Notify = catcher })
	// A Teams user's ticket, posted to the Slack experts channel.
	tk, err := e.bot.cfg.Experts.Create(context.Background(), itsm.Issue{Ref: "EB-X", Conversation: "teams:a:1", User: "teams:aad-1", Lang: "de", Body: "Fehler"})
	if err != nil {
		t.Fatal(err)
	}
	_ = tickets.SaveTicket(context.Background(), bot.TicketRecord{ID: "EB-X", Ref: "EB-X", Refs: map[string]string{"slack-experts": tk},
		Conversation: "teams:a:1", Lang: "de", State: bot.TicketOpen})
	var card apiCall
	for _, p := range e.slack.byMethod("chat.postMessage") {
		if p.TS == tk {
			card = p
		}
	}
	e.clickCard("U0EXP", card, findButton(t, card.blocks(t), actionTicketTake))
	e.idle()
	if len(catcher.news) != 1 || catcher.news[0].State != bot.TicketTaken || catcher.news[0].By != "someone" {
		t.Errorf("the Teams user's adapter got %+v; want the taken ticket with the expert's name", catcher.news)
	}
}

func TestCardLinksChannelThreadsOnly(t *testing.T) {
	st := memStores()
	e := startEnv(t, newFakeSlack(t), st, withExperts(t, st, bot.NewMemoryTickets()))
	for _, tc := range []struct{ conv, want, not string }{
		{"slack:C0001:1700000000.000100", "https://contoso.slack.com/archives/C0001/p1700000000000100|Open the conversation", ""},
		{"slack:D0001", "", "contoso.slack.com"},
		{"slack:cmd:C0001:U0001", "", "contoso.slack.com"},
	} {
		ts, err := e.bot.cfg.Experts.Create(context.Background(), itsm.Issue{Ref: "EB-L", Conversation: tc.conv, User: "slack:U0001", Lang: "en", Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		var card string
		for _, p := range e.slack.byMethod("chat.postMessage") {
			if p.TS == ts {
				card = fmt.Sprint(p.blocks(t))
			}
		}
		if tc.want != "" && !strings.Contains(card, tc.want) || tc.not != "" && strings.Contains(card, tc.not) {
			t.Errorf("%s: card %s", tc.conv, card)
		}
	}
}

func TestRelayFromAnotherPlatformEscapesTheName(t *testing.T) {
	e := newEnv(t)
	told, err := e.bot.RelayToUser(context.Background(), bot.TicketRecord{Ref: "EB-N", Conversation: "slack:D0001", Lang: kb.English},
		"<!channel> Megan", "try <b>this</b>")
	if !told || err != nil {
		t.Fatalf("told %v, %v", told, err)
	}
	posts := e.slack.byMethod("chat.postMessage")
	got := fmt.Sprint(posts[len(posts)-1].blocks(t))
	if strings.Contains(got, "<!channel>") || !strings.Contains(got, "&lt;!channel&gt; Megan from IT (EB-N)") {
		t.Errorf("relayed as %s", got)
	}
}
