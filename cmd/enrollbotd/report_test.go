package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

func TestWriteReport(t *testing.T) {
	ctx := context.Background()
	cat, err := kb.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	log := bot.NewMemoryUnanswered()
	for _, s := range []string{"printer jam", "vpn down", "printer  jam"} {
		_ = log.RecordUnanswered(ctx, s)
	}
	fb := bot.NewMemoryFeedback()
	_ = fb.RecordFeedback(ctx, bot.Feedback{Entry: "device-cap-reached", Solved: true, User: "U1", Message: "m"})
	_ = fb.RecordFeedback(ctx, bot.Feedback{Entry: "device-cap-reached", Solved: false, User: "U2", Message: "m"})
	tickets := bot.NewMemoryTickets()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tk := range []bot.TicketRecord{
		{ID: "EB-1", Ref: "ENR-1", Entry: "device-cap-reached", Lang: "nl", State: bot.TicketResolved, Created: t0,
			Taken: t0.Add(10 * time.Minute), Resolved: t0.Add(2 * time.Hour)},
		{ID: "EB-2", Ref: "ENR-2", Entry: "device-cap-reached", Lang: "de", State: bot.TicketTaken, Created: t0,
			Taken: t0.Add(30 * time.Minute), Gap: true, Conversation: "slack:D9"},
		{ID: "EB-3", Ref: "ENR-3", Lang: "de", State: bot.TicketOpen, Created: t0},
	} {
		_ = tickets.SaveTicket(ctx, tk)
	}
	var out bytes.Buffer
	if err := writeReport(ctx, &out, log, fb, tickets, cat, 5); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	first := strings.Index(s, "printer jam")
	second := strings.Index(s, "vpn down")
	if first < 0 || second < 0 || first > second || !strings.Contains(s, "2  printer jam") {
		t.Errorf("unanswered not ranked by count:\n%s", s)
	}
	if !strings.Contains(s, "device-cap-reached") || strings.Contains(s, "workplace-join-failed") {
		t.Errorf("feedback section wrong:\n%s", s)
	}
	// 1 open, 1 taken, 1 resolved; taken after 10 and 30 minutes (median
	// 20m), resolved after 2 hours.
	flat := strings.Join(strings.Fields(s), " ")
	for _, want := range []string{"all 1 1 1 20m0s 2h0m0s", "device-cap-reached 0 1 1 20m0s 2h0m0s", "de 1 1 0 30m0s -", "ENR-2 device-cap-reached de slack:D9"} {
		if !strings.Contains(flat, want) {
			t.Errorf("tickets section lacks %q:\n%s", want, s)
		}
	}
}

func TestReportNeedsRedis(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	_, err := runCommand(t, "report")
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("err = %v", err)
	}
}
