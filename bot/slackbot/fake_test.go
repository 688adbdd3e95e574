package slackbot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/internal/bottest"
)

const (
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	testBotID  = "UBOT0001"
	testTeam   = "T0001"
)

// apiCall is one request the fake Slack received: a Web API method (form
// fields) or a response_url post (JSON).
type apiCall struct {
	Method string
	Form   url.Values
	JSON   map[string]any
	// TS is the timestamp the fake gave a posted message.
	TS string
	// ID names the response_url posted to (responseURL's id).
	ID string
}

// blocks returns the call's blocks as generic JSON.
func (c apiCall) blocks(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	if c.JSON != nil {
		raw, _ := json.Marshal(c.JSON["blocks"])
		_ = json.Unmarshal(raw, &out)
		return out
	}
	if s := c.Form.Get("blocks"); s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			t.Fatalf("%s: blocks are not JSON: %v", c.Method, err)
		}
	}
	return out
}

// text returns the call's notification text.
func (c apiCall) text() string {
	if c.JSON != nil {
		s, _ := c.JSON["text"].(string)
		return s
	}
	return c.Form.Get("text")
}

// visible returns what Slack shows of the call's message: the texts of
// its blocks and its notification text, without the buttons' values.
func (c apiCall) visible(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "value" {
					continue
				}
				if s, ok := x.(string); ok && k == "text" {
					b.WriteString(s + "\n")
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	for _, bl := range c.blocks(t) {
		walk(bl)
	}
	b.WriteString(c.text())
	return b.String()
}

// all returns everything the call carried, for searching.
func (c apiCall) all() string {
	if c.JSON != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(c.JSON)
		return buf.String()
	}
	var b strings.Builder
	for k, vs := range c.Form {
		b.WriteString(k + "=" + strings.Join(vs, ",") + "\n")
	}
	return b.String()
}

// fakeSlack plays Slack's Web API and response_urls, recording each call.
type fakeSlack struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []apiCall
	ts      int
	locales map[string]string
	// fail holds canned failures per method, served before success.
	fail map[string][]failure
	// errors answers a method with ok:false and the error, for good.
	errors map[string]string
	// ws, when set, serves the Socket Mode WebSocket.
	ws http.HandlerFunc
	// onCall, when set, is told every call as it arrives (benchmarks time
	// replies with it).
	onCall func(apiCall)
	// delay, when set, is how long every call takes. A caller that goes
	// away meanwhile (a replica killed) leaves no trace: the call never
	// completed.
	delay time.Duration
}

type failure struct {
	status     int
	retryAfter string
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{locales: map[string]string{}, fail: map[string][]failure{}, errors: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

func (f *fakeSlack) responseURL(id string) string { return f.srv.URL + "/response/" + id }

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" && f.ws != nil {
		f.ws(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var call apiCall
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		call.Method = strings.TrimPrefix(r.URL.Path, "/api/")
		call.Form, _ = url.ParseQuery(string(body))
		if len(call.Form) == 0 {
			// Some methods (chat.getPermalink) are GETs with a query.
			call.Form = r.URL.Query()
		}
	case strings.HasPrefix(r.URL.Path, "/response/"):
		call.Method = "response_url"
		call.ID = strings.TrimPrefix(r.URL.Path, "/response/")
		if err := json.Unmarshal(body, &call.JSON); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
	default:
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	delay := f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	f.ts++
	ts := fmt.Sprintf("1700000100.%06d", f.ts)
	call.TS = ts
	f.calls = append(f.calls, call)
	var fail *failure
	if q := f.fail[call.Method]; len(q) > 0 {
		fail = &q[0]
		f.fail[call.Method] = q[1:]
	}
	errName := f.errors[call.Method]
	locale := f.locales[call.Form.Get("user")]
	onCall := f.onCall
	f.mu.Unlock()
	if onCall != nil {
		onCall(call)
	}

	if fail != nil {
		if fail.retryAfter != "" {
			w.Header().Set("Retry-After", fail.retryAfter)
		}
		http.Error(w, `{"ok":false,"error":"ratelimited"}`, fail.status)
		return
	}
	if call.Method == "response_url" {
		_, _ = io.WriteString(w, "ok")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if errName != "" {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": errName})
		return
	}
	resp := map[string]any{"ok": true}
	switch call.Method {
	case "chat.postMessage", "chat.update":
		resp["channel"] = call.Form.Get("channel")
		resp["ts"] = ts
	case "chat.postEphemeral":
		resp["message_ts"] = ts
	case "chat.getPermalink":
		resp["channel"] = call.Form.Get("channel")
		resp["permalink"] = "https://contoso.slack.com/archives/" + call.Form.Get("channel") + "/p" +
			strings.ReplaceAll(call.Form.Get("message_ts"), ".", "")
	case "users.info":
		resp["user"] = map[string]any{"id": call.Form.Get("user"), "name": "someone", "locale": locale}
	case "auth.test":
		resp["user_id"], resp["user"], resp["team_id"], resp["bot_id"] = testBotID, "enrollbot", testTeam, "B0001"
	case "apps.connections.open":
		resp["url"] = "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws"
	}
	_ = json.NewEncoder(w).Encode(resp)
}

// snapshot returns the calls so far.
func (f *fakeSlack) snapshot() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

// byMethod returns the calls of one method so far.
func (f *fakeSlack) byMethod(method string) []apiCall {
	var out []apiCall
	for _, c := range f.snapshot() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// waitFor polls until n calls of method arrived, failing after a deadline.
func (f *fakeSlack) waitFor(t *testing.T, method string, n int) []apiCall {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		calls := f.byMethod(method)
		if len(calls) >= n {
			return calls
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d %s call(s), got %d; all calls: %v", n, method, len(calls), methods(f.snapshot()))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func methods(calls []apiCall) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Method)
	}
	return out
}

// env is a Bot wired to a fake Slack, served over a loopback HTTP server.
type env struct {
	t      *testing.T
	slack  *fakeSlack
	bot    *Bot
	srv    *httptest.Server
	stores stores
	// count is the sessions' rate limiter and observer.
	count  *counter
	logs   *syncBuffer
	sleeps *sleepRecorder
}

// sleepRecorder stands in for the clock between retries: it records the
// waits asked for and returns at once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// stores are what a bot keeps between turns: in memory (memStores) or in
// Redis (the replica tests).
type stores struct {
	conv   bot.Store
	prefs  bot.Preferences
	fb     bot.FeedbackStore
	unans  bot.UnansweredLog
	dedupe bot.Dedupe
	// limit, when set, limits turns instead of the test's counter; start
	// reads a turn's start in one go.
	limit bot.RateLimiter
	start bot.TurnStarter
}

func memStores() stores {
	return stores{conv: bot.NewMemoryStore(), prefs: bot.NewMemoryPreferences(), fb: bot.NewMemoryFeedback(),
		unans: bot.NewMemoryUnanswered(), dedupe: bot.NewMemoryDedupe()}
}

// newSessions wires Sessions around the built-in engine over st, counted
// by count.
func newSessions(t testing.TB, st stores, count *counter) *bot.Sessions {
	t.Helper()
	var limit bot.RateLimiter = count
	if st.limit != nil {
		limit = st.limit
	}
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: newEngine(t), Store: st.conv, Preferences: st.prefs,
		Feedback: st.fb, Unanswered: st.unans, Limiter: limit, Starter: st.start, Observer: count})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newBot returns a Bot over st talking to the fake Slack fs; opts adjust
// its configuration.
func newBot(t testing.TB, fs *fakeSlack, st stores, count *counter, logs io.Writer, opts ...func(*Config)) *Bot {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cfg := Config{
		Sessions:      newSessions(t, st, count),
		Dedupe:        st.dedupe,
		API:           slack.New("xoxb-test", slack.OptionAPIURL(fs.apiURL())),
		SigningSecret: testSecret,
		BotUserID:     testBotID,
		Logger:        log,
		Observer:      count,
		ReplyTimeout:  10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	return startEnv(t, newFakeSlack(t), memStores(), opts...)
}

// startEnv serves a Bot over st, talking to fs, over a loopback server.
func startEnv(t *testing.T, fs *fakeSlack, st stores, opts ...func(*Config)) *env {
	t.Helper()
	e := &env{t: t, slack: fs, stores: st, count: &counter{}, logs: &syncBuffer{}, sleeps: &sleepRecorder{}}
	opts = append([]func(*Config){func(c *Config) { c.Sleep = e.sleeps.sleep }}, opts...)
	b := newBot(t, fs, st, e.count, e.logs, opts...)
	e.bot = b
	h, err := b.Handler()
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return e
}

// idle waits until the bot has no reply in flight. Call it only while no
// request is being served.
func (e *env) idle() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.bot.queue.Idle(ctx); err != nil {
		e.t.Fatalf("replies still queued: %v", err)
	}
}

// sign returns the headers Slack sends with body at time ts.
func sign(secret string, ts time.Time, body []byte) http.Header {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", stamp)
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", stamp)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// post sends a signed request and returns the response status and body.
func (e *env) post(path, contentType string, body []byte, extra http.Header) (int, string) {
	e.t.Helper()
	return e.postSigned(path, contentType, body, sign(testSecret, time.Now(), body), extra)
}

func (e *env) postSigned(path, contentType string, body []byte, h, extra http.Header) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	start := time.Now()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if d := time.Since(start); d > 3*time.Second {
		e.t.Errorf("%s acknowledged after %s; Slack wants 3 s", path, d)
	}
	return resp.StatusCode, string(out)
}

// eventBody builds an event_callback delivery like Slack's.
func eventBody(eventID string, ev map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{
		"token":          "legacy-verification-token",
		"team_id":        testTeam,
		"api_app_id":     "A0001",
		"type":           "event_callback",
		"event_id":       eventID,
		"event_time":     1700000000,
		"event_context":  "4-eyJldCI6Im1lc3NhZ2UifQ",
		"authorizations": []map[string]any{{"enterprise_id": nil, "team_id": testTeam, "user_id": testBotID, "is_bot": true}},
		"event":          ev,
	})
	return body
}

// message builds a message event.
func messageEvent(channel, channelType, user, text, ts string) map[string]any {
	return map[string]any{
		"type": "message", "channel": channel, "channel_type": channelType, "user": user,
		"text": text, "ts": ts, "event_ts": ts, "team": testTeam, "client_msg_id": "5e1f6a2c",
	}
}

func (e *env) sendEvent(eventID string, ev map[string]any, extra http.Header) {
	e.t.Helper()
	status, body := e.post(PathEvents, "application/json", eventBody(eventID, ev), extra)
	if status != http.StatusOK {
		e.t.Fatalf("event %s: status %d %q", eventID, status, body)
	}
}

// commandBody builds a slash command form like Slack's.
func commandBody(channel, user, text, responseURL string) []byte {
	v := url.Values{}
	v.Set("token", "legacy-verification-token")
	v.Set("team_id", testTeam)
	v.Set("team_domain", "contoso")
	v.Set("channel_id", channel)
	v.Set("channel_name", "it-help")
	v.Set("user_id", user)
	v.Set("user_name", "ann")
	v.Set("command", "/enroll")
	v.Set("text", text)
	v.Set("api_app_id", "A0001")
	v.Set("response_url", responseURL)
	v.Set("trigger_id", triggerID())
	return []byte(v.Encode())
}

// triggers numbers the trigger ids of the requests the tests send: Slack
// gives every invocation its own.
var triggers atomic.Int64

func triggerID() string { return fmt.Sprintf("13345224609.738474920.%d", triggers.Add(1)) }

func (e *env) sendCommand(channel, user, text, responseURL string) {
	e.t.Helper()
	status, body := e.post(PathCommands, "application/x-www-form-urlencoded", commandBody(channel, user, text, responseURL), nil)
	if status != http.StatusOK {
		e.t.Fatalf("command: status %d %q", status, body)
	}
}

// clickBody builds a block_actions interaction like Slack's.
func clickBody(user, channel, messageTS, threadTS string, ephemeral bool, responseURL string, button map[string]any) []byte {
	container := map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel, "is_ephemeral": ephemeral}
	if threadTS != "" {
		container["thread_ts"] = threadTS
	}
	payload := map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": user, "username": "ann", "team_id": testTeam},
		"api_app_id":   "A0001",
		"token":        "legacy-verification-token",
		"container":    container,
		"trigger_id":   triggerID(),
		"team":         map[string]any{"id": testTeam, "domain": "contoso"},
		"channel":      map[string]any{"id": channel, "name": "it-help"},
		"response_url": responseURL,
		"actions": []map[string]any{{
			"action_id": button["action_id"], "block_id": "enroll_x", "type": "button",
			"value": button["value"], "action_ts": "1700000200.000001",
			"text": button["text"],
		}},
	}
	if !ephemeral {
		payload["message"] = map[string]any{"type": "message", "ts": messageTS, "thread_ts": threadTS, "user": testBotID, "bot_id": "B0001", "text": "…"}
	}
	raw, _ := json.Marshal(payload)
	v := url.Values{}
	v.Set("payload", string(raw))
	return []byte(v.Encode())
}

func (e *env) click(user, channel, messageTS, threadTS string, ephemeral bool, responseURL string, button map[string]any) {
	e.t.Helper()
	body := clickBody(user, channel, messageTS, threadTS, ephemeral, responseURL, button)
	status, resp := e.post(PathInteractions, "application/x-www-form-urlencoded", body, nil)
	if status != http.StatusOK {
		e.t.Fatalf("click: status %d %q", status, resp)
	}
}

// findButton returns the button whose action id has prefix, failing when
// there is none.
func findButton(t *testing.T, blocks []map[string]any, prefix string) map[string]any {
	t.Helper()
	for _, b := range blocks {
		if b["type"] != "actions" {
			continue
		}
		for _, el := range b["elements"].([]any) {
			btn := el.(map[string]any)
			if strings.HasPrefix(btn["action_id"].(string), prefix) {
				return btn
			}
		}
	}
	t.Fatalf("no button %s* in %v", prefix, blocks)
	return nil
}

func hasButton(blocks []map[string]any, prefix string) bool {
	for _, b := range blocks {
		if b["type"] != "actions" {
			continue
		}
		for _, el := range b["elements"].([]any) {
			if strings.HasPrefix(el.(map[string]any)["action_id"].(string), prefix) {
				return true
			}
		}
	}
	return false
}

// responses returns the posts to the response_url named id so far.
func (f *fakeSlack) responses(id string) []apiCall {
	var out []apiCall
	for _, c := range f.byMethod("response_url") {
		if c.ID == id {
			out = append(out, c)
		}
	}
	return out
}

// waitResponse waits for the n-th post to the response_url named id.
func (f *fakeSlack) waitResponse(t *testing.T, id string, n int) apiCall {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if rs := f.responses(id); len(rs) >= n {
			return rs[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d post(s) to response_url %s; all calls: %v", n, id, methods(f.snapshot()))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// header returns the text of the first header block.
func headerText(blocks []map[string]any) string {
	for _, b := range blocks {
		if b["type"] == "header" {
			return b["text"].(map[string]any)["text"].(string)
		}
	}
	return ""
}

// newEngine is the built-in engine, built once (internal/bottest).
func newEngine(t testing.TB) *bot.Engine { return bottest.Engine(t) }

// counter counts the turns the limiter was asked about and the replies
// observed (internal/bottest).
type counter = bottest.Counter

// syncBuffer is a log safe for concurrent use (internal/bottest).
type syncBuffer = bottest.LogBuffer
