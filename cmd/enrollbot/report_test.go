package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
	var out bytes.Buffer
	if err := writeReport(ctx, &out, log, fb, cat, 5); err != nil {
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
}

func TestReportNeedsRedis(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	_, err := runCLI(t, "", "report")
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("err = %v", err)
	}
}
