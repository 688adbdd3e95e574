package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/internal/bottest"
	"github.com/enrollbot/enrollbot/internal/cli"

	"github.com/golang-jwt/jwt/v5"
)

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

// serveEnv are the variables serve reads; tests set every one of them.
var serveEnv = configVars

// setServeEnv sets serve's variables to env, clearing the others.
func setServeEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range serveEnv {
		t.Setenv(k, env[k])
	}
}

func TestServeRefusesIncompleteConfig(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{}, []string{"nothing to serve", "SLACK_BOT_TOKEN", "MICROSOFT_APP_ID", "--teams-insecure-no-auth"}},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, []string{"SLACK_SIGNING_SECRET"}},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-wrong-kind"}, []string{"xapp-"}},
		{map[string]string{"SLACK_SIGNING_SECRET": "s"}, []string{"SLACK_BOT_TOKEN"}},
		{map[string]string{"MICROSOFT_APP_ID": "6b1f7e0c-4a2d-4a43-9d8e-3c0f6a1b2c3d"}, []string{"MICROSOFT_APP_PASSWORD"}},
		{map[string]string{"MICROSOFT_APP_PASSWORD": "p"}, []string{"MICROSOFT_APP_ID"}},
		{map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "MICROSOFT_APP_TENANT_ID": "t"}, []string{"MICROSOFT_APP_ID"}},
		{map[string]string{"MICROSOFT_APP_ID": "x", "MICROSOFT_APP_PASSWORD": "p", "ENROLLBOT_TEAMS_INSECURE_NO_AUTH": "true"}, []string{"--teams-insecure-no-auth"}},
	}
	for _, c := range cases {
		setServeEnv(t, c.env)
		err := run(context.Background(), []string{"serve"}, nil, io.Discard, slog.New(slog.DiscardHandler))
		var ex cli.ExitError
		if !errors.As(err, &ex) || ex.Code != 2 {
			t.Errorf("env %v: got %v, want a start-up error", c.env, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(ex.Msg, w) {
				t.Errorf("env %v: %q does not name %s", c.env, ex.Msg, w)
			}
		}
	}
}

func TestServeHTTPAndGracefulShutdown(t *testing.T) {
	api, count := fakeSlackAPI(t, "")
	const secret = "serve-test-secret"
	setServeEnv(t, map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-test",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        api.URL + "/api", // no trailing slash: serve adds it
	})
	base, _, cancel, done := startServe(t)

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
	setServeEnv(t, map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test",
		"SLACK_APP_TOKEN": "xapp-1-test",
		"SLACK_API_URL":   api.URL + "/api/",
	})
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

// metricsURL is where the serve that wrote out serves /metrics.
func metricsURL(t *testing.T, out *lockedBuffer) string {
	t.Helper()
	m := regexp.MustCompile(`/metrics on (127\.0\.0\.1:\d+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve did not say where /metrics listens:\n%s", out.String())
	}
	return "http://" + m[1] + "/metrics"
}

// startServe runs `enrollbotd serve` with args until the returned cancel,
// and returns its base URL, its output and its result.
func startServe(t *testing.T, args ...string) (base string, out *lockedBuffer, cancel func(), done <-chan error) {
	t.Helper()
	out = &lockedBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	result := make(chan error, 1)
	go func() {
		result <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--shutdown-timeout", "5s"}, args...),
			nil, out, slog.New(slog.DiscardHandler))
	}()
	addrRe := regexp.MustCompile(`serving .*? on (127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := addrRe.FindStringSubmatch(out.String()); m != nil {
			base = "http://" + m[1]
			break
		}
		select {
		case err := <-result:
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never said where it listens:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return base, out, stop, result
}

// fakeBotFramework plays the Bot Framework for serve: the OpenID metadata
// and signing keys (a locally generated RSA key), the token endpoint and
// the connector, which records replies and holds each until release is
// closed.
type fakeBotFramework struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	release chan struct{}

	mu      sync.Mutex
	replies []string
	tokens  int
}

func newFakeBotFramework(t *testing.T) *fakeBotFramework {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeBotFramework{key: key, release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/openid":
			fmt.Fprintf(w, `{"issuer":"https://api.botframework.com","jwks_uri":%q}`, f.srv.URL+"/keys")
		case r.URL.Path == "/keys":
			fmt.Fprintf(w, `{"keys":[{"kty":"RSA","use":"sig","kid":"k1","n":%q,"e":%q,"endorsements":["msteams"]}]}`,
				base64.RawURLEncoding.EncodeToString(key.N.Bytes()), base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()))
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			f.mu.Lock()
			f.tokens++
			f.mu.Unlock()
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"serve-token"}`)
		case strings.HasPrefix(r.URL.Path, "/teams/v3/conversations/"):
			select {
			case <-f.release:
			case <-r.Context().Done():
				return
			}
			f.mu.Lock()
			f.replies = append(f.replies, r.Method+" "+r.URL.EscapedPath()+" "+r.Header.Get("Authorization"))
			f.mu.Unlock()
			io.WriteString(w, `{"id":"1"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBotFramework) serviceURL() string { return f.srv.URL + "/teams/" }

func (f *fakeBotFramework) snapshot() ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.replies...), f.tokens
}

// token signs a Bot Framework token for appID and the fake's service URL.
func (f *fakeBotFramework) token(t *testing.T, appID string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": "https://api.botframework.com", "aud": appID, "serviceurl": f.serviceURL(),
		"nbf": time.Now().Add(-time.Minute).Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// teamsActivity is a personal-chat message as Teams sends it.
func teamsActivity(serviceURL, id, text string) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"channelId":"msteams","serviceUrl":%q,"text":%q,"locale":"en-US",
"from":{"id":"29:user","name":"Megan Bowen","aadObjectId":"00aa11bb-22cc-33dd-44ee-55ff66778899"},
"recipient":{"id":"28:bot","name":"enrollbot"},
"conversation":{"id":"a:1chat","conversationType":"personal","tenantId":"t1"},
"channelData":{"tenant":{"id":"t1"}}}`, id, serviceURL, text)
}

func postActivity(t *testing.T, url, body, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeTeamsAloneAndGracefulShutdown(t *testing.T) {
	const appID = "6b1f7e0c-4a2d-4a43-9d8e-3c0f6a1b2c3d"
	bf := newFakeBotFramework(t)
	setServeEnv(t, map[string]string{
		"MICROSOFT_APP_ID":                 appID,
		"MICROSOFT_APP_PASSWORD":           "secret",
		"MICROSOFT_APP_TENANT_ID":          "72f988bf-86f1-41af-91ab-2d7cd011db47",
		"BOTFRAMEWORK_OPENID_METADATA_URL": bf.srv.URL + "/openid",
		"BOTFRAMEWORK_TOKEN_URL":           bf.srv.URL + "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
	})
	base, out, cancel, done := startServe(t)
	if s := out.String(); !strings.Contains(s, "Microsoft Teams as app "+appID) || strings.Contains(s, "Slack") {
		t.Errorf("start-up line: %s", s)
	}
	if status := postActivity(t, base+"/slack/events", `{}`, ""); status != http.StatusNotFound {
		t.Errorf("Slack endpoint without Slack configured: %d", status)
	}
	body := teamsActivity(bf.serviceURL(), "f:1", "0x80180014")
	if status := postActivity(t, base+"/api/messages", body, ""); status != http.StatusUnauthorized {
		t.Errorf("unsigned activity: %d, want 401", status)
	}
	if status := postActivity(t, base+"/api/messages", body, bf.token(t, "another-app")); status != http.StatusUnauthorized {
		t.Errorf("token for another app: %d, want 401", status)
	}
	if status := postActivity(t, base+"/api/messages", body, bf.token(t, appID)); status != http.StatusOK {
		t.Fatalf("signed activity: %d", status)
	}

	// Shut down while the reply is held at the connector: it is still
	// delivered.
	cancel()
	time.Sleep(20 * time.Millisecond)
	close(bf.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
	replies, tokens := bf.snapshot()
	if len(replies) != 1 || tokens != 1 {
		t.Fatalf("replies %v, token requests %d; want 1 and 1", replies, tokens)
	}
	if want := "POST /teams/v3/conversations/a:1chat/activities/f:1 Bearer serve-token"; replies[0] != want {
		t.Errorf("reply %q, want %q", replies[0], want)
	}
}

func TestServeSlackAndTeamsWithoutAuth(t *testing.T) {
	api, count := fakeSlackAPI(t, "")
	bf := newFakeBotFramework(t)
	close(bf.release)
	setServeEnv(t, map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-test",
		"SLACK_SIGNING_SECRET": "s",
		"SLACK_API_URL":        api.URL + "/api/",
	})
	base, out, cancel, done := startServe(t, "--teams-insecure-no-auth")
	s := out.String()
	for _, want := range []string{"WARNING", "WITHOUT AUTHENTICATION", "Slack as enrollbot", "Microsoft Teams WITHOUT AUTHENTICATION"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if status := postActivity(t, base+"/api/messages", teamsActivity(bf.serviceURL(), "f:2", "0x80180014"), ""); status != http.StatusOK {
		t.Fatalf("activity: %d", status)
	}
	if status := postActivity(t, base+"/api/messages", teamsActivity("https://smba.trafficmanager.net/emea/", "f:3", "0x80180014"), ""); status != http.StatusForbidden {
		t.Errorf("a non-loopback service URL without auth: %d, want 403", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	replies, tokens := bf.snapshot()
	if len(replies) != 1 || tokens != 0 || !strings.HasSuffix(replies[0], "/activities/f:2 ") {
		t.Errorf("replies %q, token requests %d; want one reply without a token", replies, tokens)
	}
	if count("auth.test") != 1 {
		t.Errorf("auth.test %d", count("auth.test"))
	}
}

// lockedBuffer is a log safe for concurrent use (internal/bottest).
type lockedBuffer = bottest.LogBuffer
