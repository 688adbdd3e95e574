package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/internal/bottest"
	"github.com/enrollbot/enrollbot/internal/cli"

	"github.com/enrollbot/enrollbot/internal/tcpproxy"
)

func TestReadiness(t *testing.T) {
	down := errors.New("redis ping 127.0.0.1:6379: connection refused")
	for _, tt := range []struct {
		name string
		ping func(context.Context) error
		want int
	}{
		{"memory", nil, http.StatusOK},
		{"redis up", func(context.Context) error { return nil }, http.StatusOK},
		{"redis down", func(context.Context) error { return down }, http.StatusServiceUnavailable},
	} {
		rec := httptest.NewRecorder()
		var log bottest.LogBuffer
		readiness(tt.ping, slog.New(slog.NewTextHandler(&log, nil))).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, rec.Code, tt.want)
		}
		// Why goes to the log; the body does not show the Redis address.
		if tt.want != http.StatusOK && (!strings.Contains(log.String(), "connection refused") || strings.Contains(rec.Body.String(), "refused")) {
			t.Errorf("%s: body %q, log %q", tt.name, rec.Body.String(), log.String())
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeWithRedis runs serve against the real Redis at REDIS_URL:
// ready, and metrics counting requests and replies.
func TestServeWithRedis(t *testing.T) {
	redisURL := bottest.RedisURL(t)
	fb := newFakeBotFramework(t)
	setServeEnv(t, map[string]string{"REDIS_URL": redisURL})
	base, out, cancel, done := startServe(t, "--teams-insecure-no-auth")
	if !strings.Contains(out.String(), "state in Redis") {
		t.Errorf("serve does not say it keeps state in Redis:\n%s", out.String())
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz %d %q", code, body)
	}
	if code := postActivity(t, base+"/api/messages", teamsActivity(fb.serviceURL(), fmt.Sprintf("act-redis-%d", time.Now().UnixNano()), "0x80180014"), ""); code != http.StatusOK {
		t.Fatalf("activity: %d", code)
	}
	// The reply is worked on after the acknowledgement: wait for it.
	var metricsBody string
	for deadline := time.Now().Add(5 * time.Second); ; {
		_, metricsBody = get(t, metricsURL(t, out))
		if strings.Contains(metricsBody, "enrollbot_replies_total") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		`enrollbot_http_requests_total{channel="teams",code="200"} 1`,
		`enrollbot_http_requests_total{channel="ops",code="200"} 1`,
		`enrollbot_replies_total{outcome="answer"} 1`,
	} {
		if !strings.Contains(metricsBody, want) {
			t.Errorf("metrics lack %q in:\n%s", want, grepLines(metricsBody, "enrollbot_"))
		}
	}
	close(fb.release)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestServeRedisUnreachableIsAClearError(t *testing.T) {
	setServeEnv(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"})
	_, err := runCommand(t, "serve", "--addr", "127.0.0.1:0", "--teams-insecure-no-auth")
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("err = %v, want a REDIS_URL error", err)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHealthcheckCommand(t *testing.T) {
	setServeEnv(t, nil)
	base, _, cancel, done := startServe(t, "--teams-insecure-no-auth")
	out, err := runCommand(t, "healthcheck", "--url", base+"/readyz")
	if err != nil || !strings.Contains(out, "ready") {
		t.Errorf("healthcheck of a ready server: %v %q", err, out)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var ex cli.ExitError
	if _, err := runCommand(t, "healthcheck", "--url", base+"/readyz", "--timeout", "500ms"); !errors.As(err, &ex) || ex.Code != 1 {
		t.Errorf("healthcheck of a stopped server: %v, want exit 1", err)
	}
}

// TestServeReadinessFollowsRedis cuts Redis away from a running server and
// brings it back: /readyz turns red with the reason within its bound, and
// green again without a restart.
func TestServeReadinessFollowsRedis(t *testing.T) {
	redisURL := bottest.RedisURL(t)
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tcpproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cut)
	via := *u
	via.Host = p.Addr()
	setServeEnv(t, map[string]string{"REDIS_URL": via.String()})
	base, _, cancel, done := startServe(t, "--teams-insecure-no-auth")
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz %d %q", code, body)
	}

	p.Cut()
	start := time.Now()
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "shared state") {
		t.Errorf("readyz with Redis gone: %d %q", code, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("readyz took %v with Redis gone", d)
	}

	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _ := get(t, base+"/readyz"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after Redis came back")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// runCommand runs enrollbotd with args and returns what it printed.
func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t.Context(), args, nil, &out, slog.New(slog.DiscardHandler))
	return out.String(), err
}
