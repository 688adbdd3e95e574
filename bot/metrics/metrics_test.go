package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

func TestMetricsExposition(t *testing.T) {
	m := New()
	h := m.Instrument("slack", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	for _, path := range []string{"/ok", "/ok", "/bad"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", path, nil))
	}
	m.Replied(bot.KindAnswer, 40*time.Microsecond)
	m.Replied(bot.KindClarify, 2*time.Millisecond)
	m.APIRetry("slack")
	m.DedupeHit("slack")
	m.DedupeHit("slack")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`enrollbot_http_requests_total{channel="slack",code="200"} 2`,
		`enrollbot_http_requests_total{channel="slack",code="401"} 1`,
		`enrollbot_replies_total{outcome="answer"} 1`,
		`enrollbot_replies_total{outcome="clarify"} 1`,
		`enrollbot_reply_duration_seconds_bucket{outcome="answer",le="5e-05"} 1`,
		`enrollbot_reply_duration_seconds_bucket{outcome="clarify",le="0.001"} 0`,
		`enrollbot_api_retries_total{channel="slack"} 1`,
		`enrollbot_dedupe_hits_total{channel="slack"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
