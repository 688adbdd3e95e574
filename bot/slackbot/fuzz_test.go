package slackbot

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/enrollbot/enrollbot/bot"
)

// FuzzParseRequests feeds arbitrary bytes to every parser a verified
// request reaches: the Events API envelope (and the decision whether to
// answer it), the slash command form, the interaction form and the button
// values. None may panic, and what they pass on stays bounded by the input.
//
//	go test ./bot/slackbot/ -run '^$' -fuzz FuzzParseRequests -fuzztime 30s
func FuzzParseRequests(f *testing.F) {
	f.Add(eventBody("Ev1", messageEvent("C1", "channel", "U1", "0x80180014", "1.2")))
	f.Add(eventBody("Ev2", map[string]any{"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@UBOT0001> hi", "ts": "1.3", "thread_ts": "1.1"}))
	f.Add([]byte(`{"type":"url_verification","challenge":"x"}`))
	f.Add([]byte(`{"type":"event_callback","event":null}`))
	f.Add([]byte(`{"type":"event_callback","event":{"type":"message","subtype":"message_changed","message":{}}}`))
	f.Add(commandBody("C1", "U1", "lang nl", "https://hooks.slack.com/commands/1/2/3"))
	f.Add(clickBody("U1", "C1", "1.2", "1.1", false, "https://hooks.slack.com/actions/1/2/3",
		map[string]any{"action_id": "enroll_pick_1", "value": `{"a":"pick","c":"slack:C1:1.1","e":"device-cap-reached","l":"en"}`}))
	f.Add(clickBody("U1", "C1", "1.2", "1.1", false, "https://hooks.slack.com/actions/1/2/3",
		map[string]any{"action_id": "enroll_choose_0_1", "value": `{"a":"choose","q":"platform","p":"ios","l":"nl"}`}))
	f.Add(clickBody("U1", "C1", "1.2", "1.1", false, "https://hooks.slack.com/actions/1/2/3",
		map[string]any{"action_id": "enroll_more", "value": `{"c":"slack:C1:1.1","e":"x","k":["a"],"o":true}`}))
	f.Add([]byte("payload=" + url.QueryEscape(`{"type":"block_actions","actions":[{"action_id":"enroll_share","value":"{\"t\":\"x\"}"}]}`)))
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5Bnull%5D%7D"))
	f.Add([]byte("%zz"))
	f.Add([]byte{0xff, 0xfe, '{'})

	b := &Bot{cfg: Config{BotUserID: testBotID}}
	f.Fuzz(func(t *testing.T, data []byte) {
		if env, err := parseEnvelope(data); err == nil {
			if j, ok := b.classify(env); ok {
				if len(j.text) > len(data) || j.user == "" || j.channel == "" || j.ts == "" {
					t.Fatalf("classify passed on %+v from %d bytes", j, len(data))
				}
				if j.mode == modeChannel && j.user == testBotID {
					t.Fatal("the bot's own message would be answered")
				}
				_ = j.conversation()
				_ = j.replyThread()
			}
		}
		if c, err := parseCommandForm(data); err == nil {
			if c.User == "" || c.Channel == "" || len(c.Text) > len(data) {
				t.Fatalf("command %+v from %d bytes", c, len(data))
			}
		}
		if ic, err := parseInteractionForm(data); err == nil {
			for _, a := range ic.ActionCallback.BlockActions {
				if a == nil {
					continue
				}
				if r, err := decodeRef(a.Value, a.ActionID); err == nil {
					checkRef(t, r)
				}
			}
		}
		if r, err := decodeRef(string(data), actionPickPrefix+"1"); err == nil && utf8.Valid(data) {
			checkRef(t, r)
		}
	})
}

// checkRef fails when a decoded button value passes on what decodeRef
// must refuse.
func checkRef(t *testing.T, r ref) {
	t.Helper()
	if r.Lang != "" && !r.Lang.Valid() {
		t.Fatalf("invalid language %q passed", r.Lang)
	}
	if r.Act != actShare && !slices.Contains(bot.Actions, r.Act) {
		t.Fatalf("unknown action %q passed", r.Act)
	}
	if len(r.Conv) > maxRefConv || len(r.Entry) > maxRefID || len(r.Question) > maxRefID || len(r.Option) > maxRefID {
		t.Fatalf("unbounded value passed: %+v", r)
	}
	if r.Conv != "" && !strings.HasPrefix(r.Conv, "slack:") {
		t.Fatalf("conversation %q passed", r.Conv)
	}
	if v := r.encode(maxButtonValue); len(v) > maxButtonValue {
		t.Fatalf("re-encoded value of %d bytes", len(v))
	}
	if v := r.encode(maxOptionValue); len(v) > maxOptionValue && r.Text == "" && len(r.Entry)+len(r.Question)+len(r.Option) < 60 {
		t.Fatalf("re-encoded option value of %d bytes: %s", len(v), v)
	}
	_ = r.input()
	_ = validConversation(r.Conv, "C1", "U1")
}

// boldPattern is what plainBold does, as a regular expression: the
// reference it is fuzzed against.
var boldPattern = regexp.MustCompile(`\*\*([^*\n]+?)\*\*`)

func FuzzPlainBold(f *testing.F) {
	for _, s := range []string{"**a**", "***a**", "**a***", "a ** b ** c", "**\n**", "****", "**a**b**c**",
		"x**é**y", "**a\n**b**", "Open **Devices** > **Enrollment**", "\xff**\xfe**"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := plainBold(s), boldPattern.ReplaceAllString(s, "*$1*"); got != want {
			t.Fatalf("plainBold(%q) = %q, the pattern gives %q", s, got, want)
		}
	})
}
