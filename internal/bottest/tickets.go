package bottest

import (
	"context"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

// TicketsContract checks what every bot.Tickets must do: find a ticket by
// conversation, id and every reference, keep its state across saves, and
// list all tickets oldest first.
func TicketsContract(t *testing.T, s bot.Tickets) {
	t.Helper()
	ctx := context.Background()
	if _, ok, err := s.TicketOf(ctx, "slack:D1"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	a := bot.TicketRecord{ID: "EB-A", Ref: "ENR-1 / INC0010001", Refs: map[string]string{"jira": "ENR-1", "servicenow": "INC0010001",
		"slack-experts": "1700000100.000001"}, Conversation: "slack:D1", User: "slack:U1", Lang: "nl", State: bot.TicketOpen, Created: t0}
	b := bot.TicketRecord{ID: "EB-B", Ref: "EB-B", Conversation: "teams:conv:2", State: bot.TicketOpen, Created: t0.Add(time.Hour)}
	for _, tk := range []bot.TicketRecord{b, a} {
		if err := s.SaveTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range []string{"EB-A", "ENR-1", "INC0010001", "1700000100.000001", "ENR-1 / INC0010001"} {
		got, ok, err := s.TicketByRef(ctx, ref)
		if err != nil || !ok || got.ID != "EB-A" {
			t.Errorf("by ref %q: %+v ok=%v err=%v", ref, got, ok, err)
		}
	}
	if _, ok, _ := s.TicketByRef(ctx, "ENR-404"); ok {
		t.Error("an unknown reference found a ticket")
	}
	a.State, a.By, a.Taken = bot.TicketTaken, "slack:U9", t0.Add(time.Minute)
	if err := s.SaveTicket(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.TicketOf(ctx, "slack:D1")
	if err != nil || !ok || got.State != bot.TicketTaken || got.By != "slack:U9" || !got.Taken.Equal(a.Taken) || got.Lang != "nl" {
		t.Errorf("after taking: %+v ok=%v err=%v", got, ok, err)
	}
	all, err := s.AllTickets(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "EB-A" || all[1].ID != "EB-B" {
		t.Errorf("all tickets %+v, %v: want EB-A then EB-B", all, err)
	}
}

// SettingsContract checks what every bot.Settings must do.
func SettingsContract(t *testing.T, s bot.Settings) {
	t.Helper()
	ctx := context.Background()
	if _, ok, err := s.Setting(ctx, "teams-experts"); ok || err != nil {
		t.Fatalf("empty: ok=%v err=%v", ok, err)
	}
	if err := s.SetSetting(ctx, "teams-experts", `{"channel":"19:x"}`); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Setting(ctx, "teams-experts"); !ok || err != nil || v != `{"channel":"19:x"}` {
		t.Errorf("after set: %q ok=%v err=%v", v, ok, err)
	}
	if err := s.SetSetting(ctx, "teams-experts", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Setting(ctx, "teams-experts"); ok {
		t.Error("an empty value did not remove the setting")
	}
}
