package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/internal/bottest"
)

// recordingDesk is a desk that records what it was handed and opens
// tickets DESK-1, DESK-2…; fail makes every hand-off fail.
type recordingDesk struct {
	mu      sync.Mutex
	got     []bot.Handoff
	open    map[string]string
	fail    bool
	nextID  int
	relayed []string
}

func (d *recordingDesk) HandOff(_ context.Context, h bot.Handoff) (bot.Ticket, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got = append(d.got, h)
	if d.fail {
		return bot.Ticket{}, errors.New("tracker down")
	}
	if ref, ok := d.open[h.Key]; ok {
		return bot.Ticket{Ref: ref, Added: true}, nil
	}
	d.nextID++
	ref := "DESK-" + string(rune('0'+d.nextID))
	if d.open == nil {
		d.open = map[string]string{}
	}
	d.open[h.Key] = ref
	return bot.Ticket{Ref: ref}, nil
}

func (d *recordingDesk) Relay(_ context.Context, key, user, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.relayed = append(d.relayed, key+"|"+text)
	return nil
}

func deskSessions(t *testing.T, d bot.Desk) *bot.Sessions {
	t.Helper()
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: bottest.Engine(t), Store: bot.NewMemoryStore(), Desk: d})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func turn(s *bot.Sessions, key string, in bot.Input) bot.Reply {
	return s.Handle(context.Background(), bot.Turn{Key: key, User: "slack:U1", Input: in}).Reply
}

func TestHandoffAsksBeforeSending(t *testing.T) {
	tests := []struct {
		name          string
		paste, ask    string
		confirm       bot.Input
		wantSent      bool
		wantInReply   string
		wantInSummary string
	}{
		{"typed yes", "0x80180014", "can I talk to a human?", bot.Input{Text: "yes"}, true, "DESK-1", "80180014"},
		{"button", "0x80180014", "escalate", bot.Input{Action: bot.ActHandoffSend}, true, "DESK-1", "80180014"},
		{"dutch ja", "Apparaat kan niet worden ingeschreven 8018000a", "kan ik met iemand van IT praten?", bot.Input{Text: "ja graag"}, true, "DESK-1", "8018000A"},
		{"swedish ja", "felkod 0x80180014 vid registrering", "kan jag prata med någon?", bot.Input{Text: "ja"}, true, "DESK-1", "80180014"},
		{"german nein", "Fehler 0x80180014 bei der Registrierung", "ich möchte mit einem Menschen sprechen", bot.Input{Text: "nein"}, false, "", ""},
		{"cancel button", "0x80180014", "talk to a person", bot.Input{Action: bot.ActHandoffCancel}, false, "", ""},
		{"something else next", "0x80180014", "talk to a person", bot.Input{Text: "it started yesterday"}, false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &recordingDesk{}
			s := deskSessions(t, d)
			turn(s, "c", bot.Input{Text: tc.paste})
			ask := turn(s, "c", bot.Input{Text: tc.ask})
			if ask.Kind != bot.KindHandoff || !ask.ConfirmHandoff || ask.Summary == "" {
				t.Fatalf("request for a person: kind %s confirm %v summary %q", ask.Kind, ask.ConfirmHandoff, ask.Summary)
			}
			if len(d.got) != 0 {
				t.Fatal("the desk was handed the conversation before the user confirmed")
			}
			r := turn(s, "c", tc.confirm)
			if got := len(d.got) == 1; got != tc.wantSent {
				t.Fatalf("sent = %v after %+v, want %v (reply %s: %q)", got, tc.confirm, tc.wantSent, r.Kind, r.Intro)
			}
			if !tc.wantSent {
				return
			}
			if !strings.Contains(r.Intro, tc.wantInReply) {
				t.Errorf("reply %q does not give the ticket %s", r.Intro, tc.wantInReply)
			}
			h := d.got[0]
			if h.Key != "c" || h.User != "slack:U1" || !strings.Contains(strings.ToUpper(h.Request.Summary), tc.wantInSummary) {
				t.Errorf("hand-off %+v lacks the conversation, user or %s in the summary", h, tc.wantInSummary)
			}
			if h.Request.Lang != ask.Lang || h.Request.Lang != r.Lang {
				t.Errorf("hand-off language %s, ask %s, reply %s: want one language", h.Request.Lang, ask.Lang, r.Lang)
			}
		})
	}
}

func TestHandoffSecondRequestAddsToTicket(t *testing.T) {
	d := &recordingDesk{}
	s := deskSessions(t, d)
	turn(s, "c", bot.Input{Text: "0x80180014"})
	turn(s, "c", bot.Input{Action: bot.ActPerson})
	first := turn(s, "c", bot.Input{Action: bot.ActHandoffSend})
	again := turn(s, "c", bot.Input{Text: "talk to a person"})
	if !strings.Contains(again.Intro, "DESK-1") {
		t.Errorf("second request %q does not name the open ticket", again.Intro)
	}
	second := turn(s, "c", bot.Input{Text: "yes"})
	if len(d.got) != 2 || d.got[1].Request.Ticket != "DESK-1" {
		t.Fatalf("second hand-off %+v: want it sent for ticket DESK-1", d.got)
	}
	if first.Intro == second.Intro || !strings.Contains(second.Intro, "DESK-1") {
		t.Errorf("added reply %q should differ from opened %q and name DESK-1", second.Intro, first.Intro)
	}
}

func TestHandoffFailureSaysHowToReachIT(t *testing.T) {
	d := &recordingDesk{fail: true}
	s := deskSessions(t, d)
	turn(s, "c", bot.Input{Text: "0x80180014"})
	turn(s, "c", bot.Input{Text: "escalate"})
	r := turn(s, "c", bot.Input{Text: "yes"})
	if r.Kind != bot.KindHandoff || r.Summary == "" || !strings.Contains(r.Intro, "helpdesk") {
		t.Errorf("failed hand-off: kind %s intro %q summary %d bytes: want how to reach IT and the summary", r.Kind, r.Intro, len(r.Summary))
	}
}

func TestNoDeskNeverAsksToConfirm(t *testing.T) {
	s := deskSessions(t, nil)
	turn(s, "c", bot.Input{Text: "0x80180014"})
	r := turn(s, "c", bot.Input{Text: "talk to a person"})
	if r.ConfirmHandoff || r.Kind != bot.KindHandoff || r.Summary == "" {
		t.Errorf("without a desk: confirm %v kind %s: want the summary to copy", r.ConfirmHandoff, r.Kind)
	}
	// A "yes" with nothing asked is an ordinary message.
	if y := turn(s, "c", bot.Input{Text: "yes"}); y.Handoff != nil {
		t.Error("a yes nobody asked for carried a hand-off")
	}
}

func TestMemoryTickets(t *testing.T) { bottest.TicketsContract(t, bot.NewMemoryTickets()) }

func TestUserMessagesReachTheOpenTicket(t *testing.T) {
	d := &recordingDesk{}
	s := deskSessions(t, d)
	turn(s, "c", bot.Input{Text: "0x80180014"})
	turn(s, "c", bot.Input{Text: "it happens on all devices"})
	if len(d.relayed) != 0 {
		t.Fatalf("relayed %v before any ticket", d.relayed)
	}
	turn(s, "c", bot.Input{Text: "escalate"})
	turn(s, "c", bot.Input{Text: "yes"})
	if len(d.relayed) != 0 {
		t.Fatalf("the request and the confirmation were relayed: %v", d.relayed)
	}
	turn(s, "c", bot.Input{Text: "it is a Surface Pro, corporate owned"})
	turn(s, "c", bot.Input{Action: bot.ActSolved, Entry: "x"})
	if len(d.relayed) != 1 || d.relayed[0] != "c|it is a Surface Pro, corporate owned" {
		t.Errorf("relayed %v: want the one typed message after the ticket", d.relayed)
	}
}

func TestMemorySettings(t *testing.T) { bottest.SettingsContract(t, &bot.MemorySettings{}) }
