package teamsbot

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/enrollbot/enrollbot/bot"
)

// FuzzParseActivity feeds arbitrary bytes to everything a request body
// reaches before and after the token check: the activity parser, the
// decision whether to act, the mention stripping, the button data, the
// service URL check and the token validator's header parsing. None may
// panic, and what they pass on stays bounded by the input.
//
//	go test ./bot/teamsbot/ -run '^$' -fuzz FuzzParseActivity -fuzztime 30s
func FuzzParseActivity(f *testing.F) {
	const su = "https://smba.trafficmanager.net/emea/"
	for _, a := range []map[string]any{
		personal(su, "0x80180014"),
		channel(su, germanPaste, true),
		channel(su, "chatter", false),
		submitOf(personal(su, "x"), "1", map[string]any{"enrollbot": "pick", "e": "device-cap-reached", "l": "de"}),
		submitOf(personal(su, "x"), "1", map[string]any{"enrollbot": "choose", "q": "users-affected", "o:users-affected": "one", "l": "nl"}),
		submitOf(personal(su, "x"), "1", map[string]any{"enrollbot": "answer", "e": "x", "q": "users-affected", "o": "one", "t": "One user", "k": []string{"a", "b"}}),
	} {
		raw, _ := json.Marshal(a)
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"conversationUpdate","membersAdded":[{"id":"28:x"}],"recipient":{"id":"28:x"},"conversation":{"id":"a"}}`))
	f.Add([]byte(`{"type":"message","text":"<at>enrollbot</at><at></at><at x=1>y</at>&amp;&lt;at&gt;","recipient":{"name":"enrollbot","id":"b"},"entities":[{"type":"mention","text":"","mentioned":{"id":"b"}}],"conversation":{"id":"c","conversationType":"channel"},"serviceUrl":"http://[::1]:1/","from":{"id":"u"}}`))
	f.Add([]byte(`{"type":"message","value":{"enrollbot":"solved","e":"","k":null},"conversation":{"id":"c"},"serviceUrl":"x","from":{"id":"u"}}`))
	f.Add([]byte(`{"type":"invoke","value":"x","name":"adaptiveCard/action"}`))
	f.Add([]byte(`{"type":1}`))
	f.Add([]byte("null"))
	f.Add([]byte{0xff, '{', '"'})

	v, err := NewValidator(ValidatorConfig{AppID: testAppID, MetadataURL: "http://127.0.0.1:1/"})
	if err != nil {
		f.Fatal(err)
	}
	v.mu.Lock()
	v.fetched = time.Now() // no fetch: every key id is unknown, and throttled
	v.lastAttempt = time.Now()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	v.keys["k"] = signingKey{pub: &key.PublicKey}
	v.mu.Unlock()
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := parseActivity(data)
		if err != nil {
			return
		}
		act := in.schemaActivity()
		_ = in.scope().String()
		_ = in.conversationKey()
		_ = in.user()
		_ = in.locale()
		if m, ok := classify(in); ok {
			if len(m.text) > len(data) {
				t.Fatalf("text of %d bytes from %d", len(m.text), len(data))
			}
			if m.data == nil && in.scope() != scopePersonal && !in.mentionsBot() {
				t.Fatal("a channel message without a mention would be answered")
			}
			if in.fromSelf() {
				t.Fatal("the bot's own message would be answered")
			}
			if d := m.data; d != nil {
				if len(d.Entry) > maxDataID || len(d.Question) > maxDataID || len(d.Option) > maxDataID {
					t.Fatalf("unbounded button data %+v", d)
				}
				if d.Lang != "" && !d.Lang.Valid() {
					t.Fatalf("invalid language %q", d.Lang)
				}
				if !slices.Contains(bot.Actions, bot.Action(d.Action)) {
					t.Fatalf("an action the engine does not know: %q", d.Action)
				}
				if input := d.input(in.locale()); input.Text != "" {
					t.Fatalf("a click made up text: %+v", input)
				}
			}
			if utf8.ValidString(in.Text) && !utf8.ValidString(m.text) {
				t.Fatalf("cleanText broke UTF-8: %q", m.text)
			}
		}
		_, _ = checkServiceURL(in.ServiceURL, true)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		header := "Bearer " + strings.TrimSpace(in.Text)
		if _, err := v.AuthenticateRequest(ctx, act, header, nil, ""); err == nil {
			t.Fatal("an unsigned token was accepted")
		}
	})
}
