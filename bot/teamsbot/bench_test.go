package teamsbot

import (
	"encoding/json"
	"testing"
)

// BenchmarkMessagesEndpoint measures POST /api/messages over loopback,
// client included, with authentication on: the token verified (RS256,
// cached keys), the activity parsed, claimed and acknowledged.
//
//	go test ./bot/teamsbot/ -run '^$' -bench BenchmarkMessagesEndpoint -benchmem
func BenchmarkMessagesEndpoint(b *testing.B) {
	b.Run("ignored", func(b *testing.B) {
		// A typing activity: verify, parse, dispatch, acknowledge.
		h := newHarness(b, false, nil)
		act := baseActivity(h.conn.serviceURL(), "typing")
		act["conversation"] = map[string]any{"id": personalConv, "conversationType": "personal"}
		raw, _ := json.Marshal(act)
		tok := h.sign.token(b, h.conn.serviceURL(), nil)
		h.postRaw(raw, tok) // the keys are fetched once
		b.ResetTimer()
		for b.Loop() {
			if status := h.postRawNoWait(raw, tok); status != 200 {
				b.Fatalf("status %d", status)
			}
		}
	})
	b.Run("answered", func(b *testing.B) {
		// A personal message: verify, parse, claim, acknowledge; then the
		// reply (engine, card, connector post to the fake), waited for.
		h := newHarness(b, false, nil)
		tok := h.sign.token(b, h.conn.serviceURL(), nil)
		h.post(personal(h.conn.serviceURL(), "warm up"))
		b.ResetTimer()
		for b.Loop() {
			b.StopTimer()
			raw, _ := json.Marshal(personal(h.conn.serviceURL(), "Enrollment fails with 0x80180014"))
			b.StartTimer()
			if status := h.postRaw(raw, tok); status != 200 {
				b.Fatalf("status %d", status)
			}
		}
	})
}
