package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeSlackAPI answers the Web API methods serve uses and counts them.
func fakeSlackAPI(t *testing.T, socketErr string) (*httptest.Server, func(string) int) {
	var mu sync.Mutex
	counts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		mu.Lock()
		counts[method]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "auth.test":
			io.WriteString(w, `{"ok":true,"user":"enrollbot","user_id":"UBOT","team_id":"T1","bot_id":"B1"}`)
		case "chat.postMessage":
			io.WriteString(w, `{"ok":true,"channel":"D1","ts":"1700000100.000001"}`)
		case "users.info":
			io.WriteString(w, `{"ok":true,"user":{"id":"U1","locale":"en-US"}}`)
		case "apps.connections.open":
			fmt.Fprintf(w, `{"ok":false,"error":%q}`, socketErr)
		default:
			io.WriteString(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func(m string) int {
		mu.Lock()
		defer mu.Unlock()
		return counts[m]
	}
}

func TestServeRefusesIncompleteConfig(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "SLACK_BOT_TOKEN"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "xapp-"},
	}
	for _, c := range cases {
		for _, k := range []string{"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"} {
			t.Setenv(k, c.env[k])
		}
		err := run(context.Background(), []string{"serve"}, nil, io.Discard, slog.New(slog.DiscardHandler))
		var ex exitError
		if !errors.As(err, &ex) || ex.code != 2 || !strings.Contains(ex.msg, c.want) {
			t.Errorf("env %v: got %v, want a start-up error naming %s", c.env, err, c.want)
		}
	}
}

func TestServeHTTPAndGracefulShutdown(t *testing.T) {
	api, count := fakeSlackAPI(t, "")
	const secret = "serve-test-secret"
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_SIGNING_SECRET", secret)
	t.Setenv("SLACK_APP_TOKEN", "")
	t.Setenv("SLACK_API_URL", api.URL+"/api") // no trailing slash: serve adds it
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--shutdown-timeout", "5s"}, nil, &out, slog.New(slog.DiscardHandler))
	}()

	addrRe := regexp.MustCompile(`on (127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := addrRe.FindStringSubmatch(out.String()); m != nil {
			base = "http://" + m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never said where it listens:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}

	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	post := func(body string, signed bool) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/slack/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if signed {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			mac := hmac.New(sha256.New, []byte(secret))
			fmt.Fprintf(mac, "v0:%s:%s", ts, body)
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := post(`{"type":"url_verification","challenge":"c123"}`, true); status != 200 || !strings.Contains(body, "c123") {
		t.Errorf("url_verification: %d %q", status, body)
	}
	if status, _ := post(`{"type":"url_verification","challenge":"c123"}`, false); status != http.StatusUnauthorized {
		t.Errorf("unsigned request: %d, want 401", status)
	}
	dm := `{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":"Ev1","event":{"type":"message","channel":"D1","channel_type":"im","user":"U1","text":"0x80180014","ts":"1700000000.000100"}}`
	if status, _ := post(dm, true); status != 200 {
		t.Fatalf("event: %d", status)
	}

	// Shut down at once: the reply in flight is still delivered.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if count("chat.postMessage") != 1 || count("auth.test") != 1 {
		t.Errorf("auth.test %d, chat.postMessage %d; want 1 and 1", count("auth.test"), count("chat.postMessage"))
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("still serving after shutdown")
	}
}

func TestServeSocketModeBadToken(t *testing.T) {
	api, count := fakeSlackAPI(t, "invalid_auth")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-test")
	t.Setenv("SLACK_SIGNING_SECRET", "")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1-test")
	t.Setenv("SLACK_API_URL", api.URL+"/api/")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, nil, io.Discard, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("serve with a rejected app token: %v", err)
	}
	if count("apps.connections.open") == 0 {
		t.Fatal("socket mode never tried to connect")
	}
}
