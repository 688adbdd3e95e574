package teamsbot

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/internal/bottest"
)

const (
	testAppID    = "6b1f7e0c-4a2d-4a43-9d8e-3c0f6a1b2c3d"
	testPassword = "test-password"
	testTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	testBotID    = "28:" + testAppID
	testBotName  = "enrollbot"
	testIssuer   = "https://api.botframework.com"
)

// signer is a locally generated RSA key, published by a local OpenID
// endpoint (metadata and JWKS) as the Bot Framework publishes its own.
type signer struct {
	srv *httptest.Server

	mu        sync.Mutex
	keys      map[string]*rsa.PrivateKey
	published []string
	// endorse, when set, is every key's endorsements.
	endorse []string
	// metadataHits and keyHits count the fetches.
	metadataHits int
	keyHits      int
	// down answers every fetch 503.
	down bool
}

func newSigner(t testing.TB) *signer {
	t.Helper()
	s := &signer{keys: map[string]*rsa.PrivateKey{}}
	s.addKey(t, "key-1", true)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// addKey makes a key, published or not.
func (s *signer) addKey(t testing.TB, kid string, publish bool) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[kid] = k
	if publish {
		s.published = append(s.published, kid)
	}
}

func (s *signer) metadataURL() string { return s.srv.URL + "/v1/.well-known/openidconfiguration" }

func (s *signer) hits() (metadata, keys int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metadataHits, s.keyHits
}

func (s *signer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/.well-known/openidconfiguration":
		s.metadataHits++
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                testIssuer,
			"authorization_endpoint":                "https://invalid.botframework.com",
			"jwks_uri":                              s.srv.URL + "/v1/.well-known/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		})
	case "/v1/.well-known/keys":
		s.keyHits++
		var keys []map[string]any
		for _, kid := range s.published {
			pub := s.keys[kid].PublicKey
			k := map[string]any{
				"kty": "RSA", "use": "sig", "kid": kid,
				"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			}
			if s.endorse != nil {
				k["endorsements"] = s.endorse
			}
			keys = append(keys, k)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	default:
		http.NotFound(w, r)
	}
}

// token returns a signed token for serviceURL, as the Bot Framework issues
// them, changed by edit.
func (s *signer) token(t testing.TB, serviceURL string, edit func(c jwt.MapClaims, h map[string]any)) string {
	t.Helper()
	now := time.Now()
	claims := jwt.MapClaims{
		"serviceurl": serviceURL,
		"nbf":        now.Add(-time.Minute).Unix(),
		"exp":        now.Add(time.Hour).Unix(),
		"iss":        testIssuer,
		"aud":        testAppID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "key-1"
	if edit != nil {
		edit(claims, tok.Header)
	}
	kid, _ := tok.Header["kid"].(string)
	s.mu.Lock()
	key := s.keys[kid]
	s.mu.Unlock()
	if key == nil {
		key = s.keys["key-1"]
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// call is one request the fake connector received.
type call struct {
	Method string
	// Path is the escaped path, as sent.
	Path string
	Auth string
	Body map[string]any
}

// card returns the call's Adaptive Card.
func (c call) card(t testing.TB) map[string]any {
	t.Helper()
	atts, _ := c.Body["attachments"].([]any)
	if len(atts) != 1 {
		t.Fatalf("%s %s: %d attachments, want 1: %v", c.Method, c.Path, len(atts), c.Body)
	}
	att, _ := atts[0].(map[string]any)
	if att["contentType"] != CardContentType {
		t.Fatalf("attachment content type %v", att["contentType"])
	}
	content, _ := att["content"].(map[string]any)
	return content
}

// texts returns every text and title the card shows, in order, one a line.
func (c call) texts(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				if v["type"] == "TextBlock" {
					s = readable(s)
				}
				b.WriteString(s)
				if v["type"] != "TextRun" {
					b.WriteString("\n")
				}
			}
			if s, ok := v["title"].(string); ok && strings.HasPrefix(fmt.Sprint(v["type"]), "Action.") {
				b.WriteString("[" + s + "]\n")
			}
			if _, ok := v["value"].(string); ok && v["type"] == nil {
				b.WriteString("<" + fmt.Sprint(v["title"]) + ">\n")
			}
			for _, k := range []string{"body", "items", "inlines", "columns", "choices", "actions", "card"} {
				if x, ok := v[k]; ok {
					walk(x)
				}
			}
			if v["type"] == "RichTextBlock" {
				b.WriteString("\n")
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(c.card(t))
	return b.String()
}

// actions returns the card's Action.Submit data, in order.
func (c call) submits(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if v["type"] == "Action.Submit" {
				d, _ := v["data"].(map[string]any)
				d["_title"] = v["title"]
				out = append(out, d)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(c.card(t))
	return out
}

// connectorFake plays the Bot Connector and the token endpoint.
type connectorFake struct {
	srv *httptest.Server

	mu     sync.Mutex
	calls  []call
	tokens int
	forms  []url.Values
	n      int
	// fail holds canned statuses, served before success.
	fail []int
	// tokenStatus, when set, answers the token endpoint with it.
	tokenStatus int
	// hold, when set, makes each activity request wait for it to close;
	// waiting counts the requests waiting now.
	hold    chan struct{}
	waiting int
}

func newConnector(t testing.TB) *connectorFake {
	f := &connectorFake{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *connectorFake) serviceURL() string { return f.srv.URL + "/amer/" }

func (f *connectorFake) tokenURL() string { return f.srv.URL + "/" + testTenant + "/oauth2/v2.0/token" }

func (f *connectorFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		form, _ := url.ParseQuery(string(body))
		f.mu.Lock()
		f.tokens++
		n := f.tokens
		f.forms = append(f.forms, form)
		status := f.tokenStatus
		f.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-%d"}`, n)
		return
	}
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		f.mu.Lock()
		f.waiting++
		f.mu.Unlock()
		var gone bool
		select {
		case <-hold:
		case <-r.Context().Done():
			gone = true
		}
		f.mu.Lock()
		f.waiting--
		f.mu.Unlock()
		if gone {
			return
		}
	}
	c := call{Method: r.Method, Path: r.URL.EscapedPath(), Auth: r.Header.Get("Authorization")}
	if err := json.Unmarshal(body, &c.Body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.n++
	id := fmt.Sprintf("1700000000%03d", f.n)
	var status int
	if len(f.fail) > 0 {
		status, f.fail = f.fail[0], f.fail[1:]
	}
	f.mu.Unlock()
	if status != 0 {
		http.Error(w, `{"error":{"code":"ServiceError"}}`, status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"id":%q}`, id)
}

func (f *connectorFake) snapshot() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *connectorFake) tokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

// harness is a Bot behind an HTTP server, with its connector, signer and
// the Sessions kit it answers through.
type harness struct {
	kit
	t     testing.TB
	bot   *Bot
	srv   *httptest.Server
	conn  *connectorFake
	sign  *signer
	log   *lockedBuffer
	clock *fakeClock
	slept []time.Duration
	mu    sync.Mutex
}

// fakeClock is the validator's clock: it moves when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// set runs f with the connector's lock held, to change what it answers.
func (f *connectorFake) set(change func(f *connectorFake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// builtin is the engine over the embedded catalog, built once: it never
// changes after New and is safe for concurrent use.
// kit is Sessions over the built-in engine and memory stores, with what it
// keeps at hand for the tests to look at.
type kit struct {
	sessions *bot.Sessions
	store    *bot.MemoryStore
	prefs    *bot.MemoryPreferences
	feedback *bot.MemoryFeedback
	count    *counter
}

func newKit(t testing.TB) kit {
	t.Helper()
	k := kit{store: bot.NewMemoryStore(), prefs: bot.NewMemoryPreferences(), feedback: bot.NewMemoryFeedback(),
		count: &counter{}}
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: newEngine(t), Store: k.store, Preferences: k.prefs,
		Feedback: k.feedback, Limiter: k.count, Observer: k.count})
	if err != nil {
		t.Fatal(err)
	}
	k.sessions = s
	return k
}

// say runs inputs through the kit's Sessions in one conversation and
// returns the last reply.
func (k kit) say(t testing.TB, key string, inputs ...bot.Input) bot.Reply {
	t.Helper()
	var r bot.Reply
	for _, in := range inputs {
		out := k.sessions.Handle(context.Background(), bot.Turn{Key: key, User: "teams:test", Input: in})
		if !out.Post {
			t.Fatalf("%+v: not posted", in)
		}
		r = out.Reply
	}
	return r
}

// newHarness starts a bot with credentials (or without, when noAuth),
// changed by edit before New.
func newHarness(t testing.TB, noAuth bool, edit func(*Config)) *harness {
	t.Helper()
	h := &harness{kit: newKit(t), t: t, conn: newConnector(t), sign: newSigner(t), log: &lockedBuffer{}}
	cfg := Config{
		Sessions:          h.sessions,
		Observer:          h.count,
		OpenIDMetadataURL: h.sign.metadataURL(),
		TokenURL:          h.conn.tokenURL(),
		Logger:            slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.slept = append(h.slept, d)
			h.mu.Unlock()
			return ctx.Err()
		},
	}
	if noAuth {
		cfg.InsecureNoAuth = true
	} else {
		cfg.AppID, cfg.AppPassword = testAppID, testPassword
	}
	if edit != nil {
		edit(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	h.clock = &fakeClock{now: time.Now()}
	if b.validator != nil {
		b.validator.now = h.clock.Now
	}
	b.conn.tokens.now = h.clock.Now
	h.srv = httptest.NewServer(b.Handler())
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.Shutdown(ctx)
	})
	return h
}

// post sends an activity with a valid token (unless the harness has no
// auth) and returns the status; then it waits for the reply work it
// started.
func (h *harness) post(act map[string]any) int {
	h.t.Helper()
	tok := ""
	if h.bot.Authenticated() {
		su, _ := act["serviceUrl"].(string)
		tok = h.sign.token(h.t, su, nil)
	}
	return h.postWith(act, tok)
}

// postWith sends an activity with the bearer token tok ("" for none).
func (h *harness) postWith(act map[string]any, tok string) int {
	h.t.Helper()
	raw, err := json.Marshal(act)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.postRaw(raw, tok)
}

func newRequest(url string, raw []byte, tok string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req, nil
}

func (h *harness) postRaw(raw []byte, tok string) int {
	h.t.Helper()
	req, err := newRequest(h.srv.URL+Path, raw, tok)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	h.idle()
	return resp.StatusCode
}

// idle waits for the reply work in flight.
func (h *harness) idle() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.bot.queue.Idle(ctx); err != nil {
		h.t.Fatalf("replies still queued: %v", err)
	}
}

// calls returns the connector's calls so far.
func (h *harness) calls() []call { return h.conn.snapshot() }

// only returns the one connector call there is, failing otherwise.
func (h *harness) only() call {
	h.t.Helper()
	calls := h.calls()
	if len(calls) != 1 {
		h.t.Fatalf("%d connector calls, want 1: %+v\nlog:\n%s", len(calls), calls, h.log.String())
	}
	return calls[0]
}

// last returns the latest connector call.
func (h *harness) last() call {
	h.t.Helper()
	calls := h.calls()
	if len(calls) == 0 {
		h.t.Fatalf("no connector call\nlog:\n%s", h.log.String())
	}
	return calls[len(calls)-1]
}

// Activities shaped like the ones Teams sends.

var activitySeq struct {
	mu sync.Mutex
	n  int
}

func nextID() string {
	activitySeq.mu.Lock()
	defer activitySeq.mu.Unlock()
	activitySeq.n++
	return fmt.Sprintf("1699999999%04d", activitySeq.n)
}

const (
	personalConv = "a:1Hh9kLwL-9pV2Vh3wQ3Yp0xwOe3R0bW1Vv8cJ6s5o8xZ0Kq"
	channelConv  = "19:2a8b5ab3f9d84f2a8e1c8d0f0ab12345@thread.tacv2"
	groupConv    = "19:meeting_NDBlY2Q5ZTAtYjQ0Ny00ZDFmLWE5OWItZTU3N2Y0OGQwYjQ3@thread.v2"
	testUserAAD  = "00aa11bb-22cc-33dd-44ee-55ff66778899"
	testUserID   = "29:1XyZw-Pq8Rst0Uvw1YzAbCdEfGhIjKlMnOpQrStUvWxYz"
)

func baseActivity(serviceURL, typ string) map[string]any {
	return map[string]any{
		"type":           typ,
		"id":             nextID(),
		"timestamp":      "2026-11-22T10:00:00.1234567Z",
		"localTimestamp": "2026-11-22T11:00:00.1234567+01:00",
		"localTimezone":  "Europe/Amsterdam",
		"serviceUrl":     serviceURL,
		"channelId":      "msteams",
		"from":           map[string]any{"id": testUserID, "name": "Megan Bowen", "aadObjectId": testUserAAD},
		"recipient":      map[string]any{"id": testBotID, "name": testBotName},
		"locale":         "en-US",
		"entities": []any{map[string]any{"type": "clientInfo", "locale": "en-US", "country": "US",
			"platform": "Web", "timezone": "Europe/Amsterdam"}},
		"channelData": map[string]any{"tenant": map[string]any{"id": testTenant}},
	}
}

// personal is a message in the bot's personal chat.
func personal(serviceURL, text string) map[string]any {
	a := baseActivity(serviceURL, "message")
	a["text"] = text
	a["textFormat"] = "plain"
	a["conversation"] = map[string]any{"id": personalConv, "conversationType": "personal", "tenantId": testTenant}
	return a
}

// channel is a new post in a team's channel; mention adds the bot's
// mention before text.
func channel(serviceURL, text string, mention bool) map[string]any {
	a := baseActivity(serviceURL, "message")
	id := a["id"].(string)
	a["conversation"] = map[string]any{"isGroup": true, "id": channelConv + ";messageid=" + id,
		"conversationType": "channel", "tenantId": testTenant}
	a["channelData"] = map[string]any{
		"teamsChannelId": channelConv,
		"teamsTeamId":    "19:team0a1b2c3d@thread.tacv2",
		"channel":        map[string]any{"id": channelConv},
		"team":           map[string]any{"id": "19:team0a1b2c3d@thread.tacv2"},
		"tenant":         map[string]any{"id": testTenant},
	}
	if mention {
		text = "<at>" + testBotName + "</at> " + text
		ents := a["entities"].([]any)
		a["entities"] = append(ents, map[string]any{"type": "mention", "text": "<at>" + testBotName + "</at>",
			"mentioned": map[string]any{"id": testBotID, "name": testBotName}})
	}
	a["text"] = text
	a["textFormat"] = "plain"
	return a
}

// submitOf is the message Teams sends for a click on an Action.Submit
// button with data, on the card posted as cardID in the conversation of
// like.
func submitOf(like map[string]any, cardID string, data map[string]any) map[string]any {
	a := baseActivity(like["serviceUrl"].(string), "message")
	a["conversation"] = like["conversation"]
	a["channelData"] = like["channelData"]
	a["replyToId"] = cardID
	value := map[string]any{}
	for k, v := range data {
		if k != "_title" {
			value[k] = v
		}
	}
	a["value"] = value
	return a
}

// cardID returns the id the fake connector gave the n-th activity (from 1).
func cardID(n int) string { return fmt.Sprintf("1700000000%03d", n) }

// newEngine is the built-in engine, built once (internal/bottest).
func newEngine(t testing.TB) *bot.Engine { return bottest.Engine(t) }

// counter counts the turns the limiter was asked about and the replies
// observed (internal/bottest).
type counter = bottest.Counter

// countsOf returns the limiter counts and the number of replies observed.
func countsOf(c *counter) (allows, replies int) {
	a, r := c.Counts()
	return a, len(r)
}

// lockedBuffer is a log safe for concurrent use (internal/bottest).
type lockedBuffer = bottest.LogBuffer
