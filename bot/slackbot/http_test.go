package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// autoMDMLine is what the event log shows when Windows automatic
// enrollment fails; its entry has three causes.
const autoMDMLine = "Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)"

const dutchError = "Hoi, een collega krijgt dit op haar iPhone: Gebruikersnaam niet herkend. " +
	"Dit gebruikersaccount is niet gemachtigd om Microsoft Intune te gebruiken. Weet iemand wat dit is?"

func TestURLVerification(t *testing.T) {
	e := newEnv(t)
	body := []byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	status, resp := e.post(PathEvents, "application/json", body, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(resp), &got); err != nil || got["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("challenge answer %q (%v)", resp, err)
	}
	e.idle()
	if calls := e.slack.snapshot(); len(calls) != 0 {
		t.Fatalf("url_verification made API calls: %v", methods(calls))
	}
}

func TestDirectMessageWithCode(t *testing.T) {
	e := newEnv(t)
	e.sendEvent("Ev01DM", messageEvent("D0001", "im", "U0001", "Enrollment fails with 0x80180014", "1700000000.000100"), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if post.Form.Get("channel") != "D0001" {
		t.Errorf("posted to %q, want the DM", post.Form.Get("channel"))
	}
	if ts := post.Form.Get("thread_ts"); ts != "" {
		t.Errorf("DM answered in thread %q, want in place", ts)
	}
	blocks := post.blocks(t)
	if h := headerText(blocks); h != "Your organization does not support this version of Windows." {
		t.Errorf("header %q", h)
	}
	if !strings.Contains(post.all(), "0x80180014") || !hasButton(blocks, actionSolved) {
		t.Errorf("answer lacks the code or the feedback buttons: %s", post.all())
	}
	if post.text() == "" || !strings.Contains(post.text(), "0x80180014") {
		t.Errorf("fallback text %q", post.text())
	}
	e.idle()
	if info := e.slack.byMethod("users.info"); len(info) != 1 || info[0].Form.Get("include_locale") != "true" || info[0].Form.Get("user") != "U0001" {
		t.Errorf("users.info calls %v, want one with include_locale for U0001", info)
	}
	if n := len(e.slack.byMethod("reactions.add")); n != 0 {
		t.Errorf("a DM got %d reactions", n)
	}
	// The locale is cached: the next message asks Slack no more.
	e.sendEvent("Ev02DM", messageEvent("D0001", "im", "U0001", "0x80180010", "1700000000.000200"), nil)
	e.slack.waitFor(t, "chat.postMessage", 2)
	e.idle()
	if n := len(e.slack.byMethod("users.info")); n != 1 {
		t.Errorf("users.info called %d times after a second message, want 1 (cached)", n)
	}
}

func TestChannelDutchErrorAnsweredInThread(t *testing.T) {
	e := newEnv(t)
	e.slack.locales["U0002"] = "en-US"
	ts := "1700000000.000300"
	e.sendEvent("Ev03", messageEvent("C0001", "channel", "U0002", dutchError, ts), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if got := post.Form.Get("thread_ts"); got != ts {
		t.Errorf("thread_ts %q, want the message's %q", got, ts)
	}
	if !strings.Contains(post.all(), "Oorzaak") || !strings.Contains(post.all(), "Opgelost") {
		t.Errorf("reply is not in Dutch: %s", post.all())
	}
	if h := headerText(post.blocks(t)); h != "Gebruikersnaam wordt niet herkend" {
		t.Errorf("header %q", h)
	}
	react := e.slack.waitFor(t, "reactions.add", 1)[0]
	if react.Form.Get("name") != "white_check_mark" || react.Form.Get("timestamp") != ts || react.Form.Get("channel") != "C0001" {
		t.Errorf("reaction %v", react.Form)
	}
}

// Chatter in a channel gets no reply and leaves no trace: no Web API call
// but the (cached) locale lookup, no reply observed, no conversation saved,
// nothing in the unanswered log. The rate limit counts each message once:
// a user flooding a channel is limited like one flooding a DM.
func TestChannelChatterIgnored(t *testing.T) {
	e := newEnv(t)
	texts := []string{"lunch anyone?", "hello there", "the build is green again", "enrollment is broken", ""}
	for i, text := range texts {
		e.sendEvent("EvChat"+string(rune('a'+i)), messageEvent("C0001", "channel", "U0003", text, "1700000000.00040"+string(rune('0'+i))), nil)
	}
	e.idle()
	for _, c := range e.slack.snapshot() {
		if c.Method != "users.info" {
			t.Errorf("chatter made API calls: %v", methods(e.slack.snapshot()))
			break
		}
	}
	if n := len(e.slack.byMethod("users.info")); n > 1 {
		t.Errorf("%d locale lookups for one user", n)
	}
	if allows, replies := e.count.Counts(); allows != len(texts) || len(replies) != 0 {
		t.Errorf("%d chatter messages counted %d times against the limit, %d replies observed", len(texts), allows, len(replies))
	}
	if top, _ := e.stores.unans.TopUnanswered(context.Background(), 10); len(top) != 0 {
		t.Errorf("chatter reached the unanswered log: %v", top)
	}
	for i := range texts {
		key := threadKey("C0001", "1700000000.00040"+string(rune('0'+i)))
		if _, ok, _ := e.stores.conv.Conversation(context.Background(), key); ok {
			t.Errorf("chatter saved conversation %s", key)
		}
	}

	// Asked directly, the bot does log what it could not place.
	e.sendEvent("EvChatDM", messageEvent("D0003", "im", "U0003", "enrollment is broken", "1700000000.000410"), nil)
	e.slack.waitFor(t, "chat.postMessage", 1)
	e.idle()
	if top, _ := e.stores.unans.TopUnanswered(context.Background(), 10); len(top) != 1 || top[0].Text != "enrollment is broken" {
		t.Errorf("unanswered log after a direct question: %v", top)
	}
}

func TestBotsEditsAndSubtypesIgnored(t *testing.T) {
	e := newEnv(t)
	own := messageEvent("C0001", "channel", testBotID, "0x80180014", "1700000000.000500")
	botMsg := messageEvent("C0001", "channel", "", "0x80180014", "1700000000.000501")
	botMsg["subtype"], botMsg["bot_id"] = "bot_message", "B0999"
	otherBot := messageEvent("D0001", "im", "U0777", "0x80180014", "1700000000.000502")
	otherBot["bot_id"] = "B0777"
	edit := map[string]any{"type": "message", "subtype": "message_changed", "channel": "C0001", "channel_type": "channel",
		"hidden": true, "ts": "1700000000.000503",
		"message": map[string]any{"type": "message", "user": "U0001", "text": "0x80180014", "ts": "1700000000.000400"}}
	del := map[string]any{"type": "message", "subtype": "message_deleted", "channel": "C0001", "channel_type": "channel",
		"hidden": true, "ts": "1700000000.000504", "deleted_ts": "1700000000.000400"}
	join := messageEvent("C0001", "channel", "U0001", "<@U0001> has joined the channel", "1700000000.000505")
	join["subtype"] = "channel_join"
	for i, ev := range []map[string]any{own, botMsg, otherBot, edit, del, join} {
		e.sendEvent("EvIgnored"+string(rune('a'+i)), ev, nil)
	}
	e.idle()
	if calls := e.slack.snapshot(); len(calls) != 0 {
		t.Fatalf("ignored events made API calls: %v", methods(calls))
	}
}

func TestAppMention(t *testing.T) {
	e := newEnv(t)
	ts := "1700000000.000600"
	mention := map[string]any{"type": "app_mention", "channel": "C0001", "user": "U0004",
		"text": "<@" + testBotID + "> hi, can you help?", "ts": ts, "event_ts": ts, "team": testTeam}
	e.sendEvent("EvMention1", mention, nil)
	// The same message also arrives as message.channels: it is not answered twice.
	e.sendEvent("EvMention1msg", messageEvent("C0001", "channel", "U0004", "<@"+testBotID+"> hi, can you help?", ts), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if post.Form.Get("thread_ts") != ts {
		t.Errorf("mention answered outside its thread: %v", post.Form)
	}
	// Unsure what it is about, the bot asks: in a channel only when mentioned.
	if !strings.Contains(post.all(), "rather ask than guess") {
		t.Errorf("mention without an error did not clarify: %s", post.all())
	}
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Errorf("%d replies to one mention", n)
	}
	if n := len(e.slack.byMethod("reactions.add")); n != 0 {
		t.Errorf("a clarification was marked answered")
	}

	// The user answers in the thread: the conversation goes on, and now it
	// is an answer.
	follow := map[string]any{"type": "app_mention", "channel": "C0001", "user": "U0004",
		"text": "<@" + testBotID + "> it says 0x80180014", "ts": "1700000000.000601", "thread_ts": ts, "team": testTeam}
	e.sendEvent("EvMention2", follow, nil)
	post = e.slack.waitFor(t, "chat.postMessage", 2)[1]
	if post.Form.Get("thread_ts") != ts || headerText(post.blocks(t)) == "" {
		t.Errorf("follow-up: %v", post.Form)
	}
	e.slack.waitFor(t, "reactions.add", 1)
}

func TestSlashCommandEphemeral(t *testing.T) {
	e := newEnv(t)
	e.sendCommand("C0001", "U0005", "Our Windows laptops show 0x80180014", e.slack.responseURL("cmd1"))
	resp := e.slack.waitFor(t, "response_url", 1)[0]
	if resp.JSON["response_type"] != "ephemeral" {
		t.Errorf("response_type %v, want ephemeral", resp.JSON["response_type"])
	}
	blocks := resp.blocks(t)
	findButton(t, blocks, actionShare)
	if headerText(blocks) != "Your organization does not support this version of Windows." {
		t.Errorf("header %q", headerText(blocks))
	}
	if !strings.Contains(resp.all(), "<@U0005> asked:") {
		t.Errorf("the asker's words are not quoted: %s", resp.all())
	}
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 0 {
		t.Errorf("a slash command posted %d public messages", n)
	}
}

func TestSlashCommandHelpAndLang(t *testing.T) {
	e := newEnv(t)
	e.sendCommand("C0001", "U0006", "help", e.slack.responseURL("help"))
	help := e.slack.waitResponse(t, "help", 1)
	if !strings.Contains(help.all(), "/enroll lang") {
		t.Errorf("help: %s", help.all())
	}

	e.sendCommand("C0001", "U0006", "lang nl", e.slack.responseURL("lang"))
	set := e.slack.waitResponse(t, "lang", 1)
	if !strings.Contains(set.all(), "Nederlands") {
		t.Errorf("lang nl: %s", set.all())
	}
	e.idle()
	if l, ok, _ := e.stores.prefs.Lang(context.Background(), sessionUser("U0006")); !ok || l != kb.Dutch {
		t.Fatalf("preference %q %v, want nl", l, ok)
	}
	// The preference beats the language the user writes in.
	e.sendEvent("EvPref", messageEvent("D0006", "im", "U0006", "Your organization does not support this version of Windows", "1700000000.000700"), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if !strings.Contains(post.all(), "Oorzaak") {
		t.Errorf("preference nl ignored: %s", post.all())
	}

	// A language that is not one: how to use the command, in the language
	// saved, with a button per language.
	e.sendCommand("C0001", "U0006", "lang klingon", e.slack.responseURL("bad"))
	bad := e.slack.waitResponse(t, "bad", 1)
	if !strings.Contains(bad.all(), "lang auto") || !strings.Contains(bad.all(), "Typ") {
		t.Errorf("bad language: %s", bad.all())
	}
	sv := findButton(t, bad.blocks(t), actionLangPrefix+"sv")
	e.click("U0006", "C0001", "1700000100.000700", "", true, e.slack.responseURL("bad"), sv)
	switched := e.slack.waitResponse(t, "bad", 2)
	if switched.JSON["replace_original"] != true || !strings.Contains(switched.all(), "svenska") {
		t.Errorf("language button: %s", switched.all())
	}
	e.idle()
	if l, _, _ := e.stores.prefs.Lang(context.Background(), sessionUser("U0006")); l != kb.Swedish {
		t.Errorf("preference after the button %q, want sv", l)
	}

	e.sendCommand("C0001", "U0006", "lang auto", e.slack.responseURL("auto"))
	auto := e.slack.waitResponse(t, "auto", 1)
	e.idle()
	if _, ok, _ := e.stores.prefs.Lang(context.Background(), sessionUser("U0006")); ok {
		t.Errorf("lang auto kept the preference")
	}
	if !strings.Contains(auto.all(), "cleared") {
		t.Errorf("lang auto: %s", auto.all())
	}
}

func TestSlackLocaleDecidesLanguage(t *testing.T) {
	e := newEnv(t)
	e.slack.locales["U0007"] = "sv-SE"
	// A code alone says nothing about language: the Slack locale decides.
	e.sendEvent("EvLocale", messageEvent("D0007", "im", "U0007", "0x80180014", "1700000000.000800"), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if !strings.Contains(post.all(), "Orsak") {
		t.Errorf("locale sv-SE ignored: %s", post.all())
	}
}

func TestPickCandidateByButtonAndByNumber(t *testing.T) {
	e := newEnv(t)
	root := "1700000000.000900"
	e.sendEvent("EvChoices", messageEvent("C0001", "channel", "U0008", "profile installation failed", root), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	blocks := post.blocks(t)
	btn := findButton(t, blocks, actionPickPrefix+"2")
	if !strings.Contains(btn["text"].(map[string]any)["text"].(string), "Connection to the server") {
		t.Fatalf("button 2 is %v", btn["text"])
	}
	replyTS := "1700000100.000001"
	e.click("U0008", "C0001", replyTS, root, false, e.slack.responseURL("pick"), btn)
	resp := e.slack.waitFor(t, "response_url", 1)[0]
	if resp.JSON["replace_original"] != true {
		t.Errorf("pick did not replace the choices: %v", resp.JSON)
	}
	if h := headerText(resp.blocks(t)); !strings.Contains(h, "Connection to the server could not be established") {
		t.Errorf("picked answer header %q", h)
	}

	// Typing the number in the thread picks too.
	root2 := "1700000000.000901"
	e.sendEvent("EvChoices2", messageEvent("C0001", "channel", "U0008", "profile installation failed", root2), nil)
	e.slack.waitFor(t, "chat.postMessage", 2)
	reply := messageEvent("C0001", "channel", "U0008", "3", "1700000000.000902")
	reply["thread_ts"] = root2
	e.sendEvent("EvChoices2Reply", reply, nil)
	post = e.slack.waitFor(t, "chat.postMessage", 3)[2]
	if post.Form.Get("thread_ts") != root2 || !strings.Contains(headerText(post.blocks(t)), "new MDM payload") {
		t.Errorf("number in thread: thread %q header %q", post.Form.Get("thread_ts"), headerText(post.blocks(t)))
	}
}

func TestThreadFollowUpNarrowsByPlatform(t *testing.T) {
	e := newEnv(t)
	root := "1700000000.001000"
	e.sendEvent("EvNarrow", messageEvent("C0001", "channel", "U0009", "user not authorized", root), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if !hasButton(post.blocks(t), actionPickPrefix) {
		t.Fatalf("want choices first: %s", post.all())
	}
	// Chatter in the thread does not make the bot forget the choices.
	chat := messageEvent("C0001", "channel", "U0010", "same here, weird", "1700000000.001001")
	chat["thread_ts"] = root
	e.sendEvent("EvNarrowChat", chat, nil)
	follow := messageEvent("C0001", "channel", "U0009", "iOS", "1700000000.001002")
	follow["thread_ts"] = root
	e.sendEvent("EvNarrowIOS", follow, nil)
	post = e.slack.waitFor(t, "chat.postMessage", 2)[1]
	if post.Form.Get("thread_ts") != root || headerText(post.blocks(t)) != "User Name Not Recognized" {
		t.Errorf("iOS in thread: thread %q header %q", post.Form.Get("thread_ts"), headerText(post.blocks(t)))
	}
}

func TestRetryAnsweredOnce(t *testing.T) {
	e := newEnv(t)
	ev := messageEvent("D0011", "im", "U0011", "0x80180014", "1700000000.001100")
	e.sendEvent("EvRetry", ev, nil)
	e.sendEvent("EvRetry", ev, http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}})
	e.sendEvent("EvRetry", ev, http.Header{"X-Slack-Retry-Num": {"2"}, "X-Slack-Retry-Reason": {"http_timeout"}})
	e.slack.waitFor(t, "chat.postMessage", 1)
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Fatalf("event delivered 3 times answered %d times", n)
	}
}

func TestSignatureRejected(t *testing.T) {
	e := newEnv(t)
	body := eventBody("EvForged", messageEvent("D0012", "im", "U0012", "0x80180014", "1700000000.001200"))
	cases := map[string]http.Header{
		"wrong secret": sign("not-the-secret", time.Now(), body),
		"stale":        sign(testSecret, time.Now().Add(-6*time.Minute), body),
		"future":       sign(testSecret, time.Now().Add(6*time.Minute), body),
		"missing":      {},
		"other body":   sign(testSecret, time.Now(), append([]byte(" "), body...)),
	}
	for name, h := range cases {
		for _, path := range []string{PathEvents, PathCommands, PathInteractions} {
			status, resp := e.postSigned(path, "application/json", body, h, nil)
			if status != http.StatusUnauthorized {
				t.Errorf("%s %s: status %d, want 401", name, path, status)
			}
			if strings.Contains(resp, "challenge") {
				t.Errorf("%s %s: answered %q", name, path, resp)
			}
		}
	}
	e.idle()
	if calls := e.slack.snapshot(); len(calls) != 0 {
		t.Fatalf("forged requests made API calls: %v", methods(calls))
	}
	if n := strings.Count(e.logs.String(), "slack request rejected: signature"); n != 15 {
		t.Errorf("%d rejections logged, want 15", n)
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	e := newEnv(t)
	e.slack.fail["chat.postMessage"] = []failure{{status: http.StatusTooManyRequests, retryAfter: "1"}}
	e.sendEvent("Ev429", messageEvent("D0013", "im", "U0013", "0x80180014", "1700000000.001300"), nil)
	e.slack.waitFor(t, "chat.postMessage", 2)
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 2 {
		t.Errorf("%d postMessage attempts, want 2", n)
	}
	if waits := e.sleeps.get(); len(waits) != 1 || waits[0] != time.Second {
		t.Errorf("waited %v, want the Retry-After [1s]", waits)
	}
}

func TestServerErrorsRetriedWithBackoff(t *testing.T) {
	e := newEnv(t)
	e.slack.fail["chat.postMessage"] = []failure{{status: 503}, {status: 502}}
	e.sendEvent("Ev5xx", messageEvent("D0014", "im", "U0014", "0x80180014", "1700000000.001400"), nil)
	e.slack.waitFor(t, "chat.postMessage", 3)
	e.idle()
	// A doubling backoff, each wait jittered between half and all of it.
	if waits := e.sleeps.get(); len(waits) != 2 || waits[0] < DefaultBackoff/2 || waits[0] > DefaultBackoff ||
		waits[1] < DefaultBackoff || waits[1] > 2*DefaultBackoff {
		t.Errorf("waited %v, want ~[%v %v] jittered", waits, DefaultBackoff, 2*DefaultBackoff)
	}

	// Failing for good: bounded, then logged with channel and event id,
	// and counted as given up.
	for range DefaultMaxRetries + 5 {
		e.slack.fail["chat.postMessage"] = append(e.slack.fail["chat.postMessage"], failure{status: 500})
	}
	e.sendEvent("Ev5xxForever", messageEvent("D0014", "im", "U0014", "0x80180014", "1700000000.001401"), nil)
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 3+1+DefaultMaxRetries {
		t.Errorf("%d attempts in all, want %d", n, 3+1+DefaultMaxRetries)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "slack call failed") || !strings.Contains(logs, "event_id=Ev5xxForever") || !strings.Contains(logs, "channel=D0014") {
		t.Errorf("failure not logged with event id and channel:\n%s", logs)
	}
	if n := e.count.GivenUp(); n != 1 {
		t.Errorf("%d replies counted as given up, want 1", n)
	}
}

// A platform failing past the reply's deadline: the retries stop there,
// and the reply is counted as given up.
func TestServerErrorsGiveUpAtTheDeadline(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.ReplyTimeout = 300 * time.Millisecond
		c.Sleep = bot.Sleep
		c.Backoff = 100 * time.Millisecond
	})
	for range 100 {
		e.slack.fail["chat.postMessage"] = append(e.slack.fail["chat.postMessage"], failure{status: 503})
	}
	start := time.Now()
	e.sendEvent("EvDown", messageEvent("D0016", "im", "U0016", "0x80180014", "1700000000.001600"), nil)
	e.idle()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s, want about the 300ms deadline", d)
	}
	if n := len(e.slack.byMethod("chat.postMessage")); n < 2 {
		t.Errorf("%d attempts, want retries until the deadline", n)
	}
	if n := e.count.GivenUp(); n != 1 {
		t.Errorf("%d replies counted as given up, want 1", n)
	}
}

func TestPermanentErrorNotRetried(t *testing.T) {
	e := newEnv(t)
	e.slack.errors["chat.postMessage"] = "channel_not_found"
	e.sendEvent("EvGone", messageEvent("D0015", "im", "U0015", "0x80180014", "1700000000.001500"), nil)
	e.slack.waitFor(t, "chat.postMessage", 1)
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Errorf("channel_not_found retried: %d attempts", n)
	}
	if !strings.Contains(e.logs.String(), "channel_not_found") || !strings.Contains(e.logs.String(), "event_id=EvGone") {
		t.Errorf("not logged:\n%s", e.logs.String())
	}
}

func TestHugeMessageBounded(t *testing.T) {
	e := newEnv(t)
	big := "0x80180014 " + strings.Repeat("Profile installation failed. ", 1_000_000/29+1)
	big = big[:1_000_000]
	e.sendEvent("EvBig", messageEvent("D0016", "im", "U0016", big, "1700000000.001600"), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if n := len(post.Form.Get("blocks")) + len(post.text()); n > 100_000 {
		t.Errorf("reply to a 1 MB message is %d bytes", n)
	}
	if !strings.Contains(post.all(), "long") {
		t.Errorf("no notice that the message was cut: %s", post.all())
	}
	checkLimits(t, "1 MB reply", post.blocks(t), post.text())

	// Beyond the cap: refused before anything is read into the engine.
	tooBig := eventBody("EvTooBig", messageEvent("D0016", "im", "U0016", strings.Repeat("x", DefaultMaxBody), "1700000000.001601"))
	status, _ := e.post(PathEvents, "application/json", tooBig, nil)
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("%d-byte body: status %d, want 413", len(tooBig), status)
	}
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Errorf("%d replies, want 1", n)
	}
}

func TestPastedMentionsEscaped(t *testing.T) {
	e := newEnv(t)
	text := "<!channel> <!here> <@U0999> help: 0x80180014 & <https://evil.example|click>"
	pings := []string{"<!channel>", "<!here>", "<@U0999>", "<https://evil"}
	noPings := func(what string, c apiCall) {
		t.Helper()
		shown := c.visible(t)
		for _, bad := range pings {
			if strings.Contains(shown, bad) {
				t.Errorf("%s shows %q unescaped:\n%s", what, bad, shown)
			}
		}
	}
	e.sendCommand("C0001", "U0017", text, e.slack.responseURL("esc"))
	resp := e.slack.waitFor(t, "response_url", 1)[0]
	noPings("the ephemeral answer", resp)
	if shown := resp.visible(t); !strings.Contains(shown, "&lt;!channel&gt;") || !strings.Contains(shown, "&amp;") {
		t.Errorf("the echo is not escaped:\n%s", shown)
	}
	checkLimits(t, "escaped ephemeral", resp.blocks(t), resp.text())

	// Posting it to the channel keeps it escaped.
	share := findButton(t, resp.blocks(t), actionShare)
	e.click("U0017", "C0001", "1700000100.999999", "", true, e.slack.responseURL("esc-share"), share)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	noPings("the shared answer", post)
	if !strings.Contains(post.visible(t), "&lt;!channel&gt;") {
		t.Errorf("the shared answer lost the question")
	}
	if post.Form.Get("channel") != "C0001" || post.Form.Get("thread_ts") != "" {
		t.Errorf("shared to %v", post.Form)
	}
	del := e.slack.waitFor(t, "response_url", 2)[1]
	if del.JSON["delete_original"] != true {
		t.Errorf("the ephemeral was not removed: %v", del.JSON)
	}

	// A DM pasting the same is answered without pinging anyone either.
	e.sendEvent("EvEsc", messageEvent("D0017", "im", "U0017", text, "1700000000.001700"), nil)
	dm := e.slack.waitFor(t, "chat.postMessage", 2)[1]
	noPings("the DM answer", dm)
}

func TestSharedAnswerContinuesInItsThread(t *testing.T) {
	e := newEnv(t)
	e.sendCommand("C0001", "U0018", "user not authorized", e.slack.responseURL("s1"))
	resp := e.slack.waitFor(t, "response_url", 1)[0]
	e.click("U0018", "C0001", "1700000100.888888", "", true, e.slack.responseURL("s1"), findButton(t, resp.blocks(t), actionShare))
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if !hasButton(post.blocks(t), actionPickPrefix) {
		t.Fatalf("shared choices lost their buttons: %s", post.all())
	}
	// A reply in the shared message's thread narrows it.
	e.idle()
	sharedTS := post.TS
	follow := messageEvent("C0001", "channel", "U0019", "iOS", "1700000000.001800")
	follow["thread_ts"] = sharedTS
	e.sendEvent("EvSharedFollow", follow, nil)
	answer := e.slack.waitFor(t, "chat.postMessage", 2)[1]
	if headerText(answer.blocks(t)) != "User Name Not Recognized" {
		t.Errorf("follow-up under the shared message: %s", answer.all())
	}
}

// Verdicts are Sessions': Solved records one (the answer gets a reaction,
// the user a thanks only they see), and a user changing their mind on the
// same message replaces it.
func TestSolvedRecordedOncePerMessage(t *testing.T) {
	e := newEnv(t)
	root := "1700000000.001900"
	e.sendEvent("EvFb", messageEvent("C0001", "channel", "U0020", "0x80180026", root), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	e.slack.waitFor(t, "reactions.add", 1)
	blocks := post.blocks(t)
	if s := post.all(); !strings.Contains(s, "Cause 1 of 2") || !strings.Contains(s, "Cause 2 of 2") {
		t.Errorf("a first answer shows every cause: %s", s)
	}

	e.click("U0021", "C0001", post.TS, root, false, e.slack.responseURL("fb"), findButton(t, blocks, actionSolved))
	thanks := e.slack.waitFor(t, "chat.postEphemeral", 1)[0]
	if thanks.Form.Get("user") != "U0021" || thanks.Form.Get("thread_ts") != root || !strings.Contains(thanks.all(), "fixed") {
		t.Errorf("thanks for the verdict: %v", thanks.Form)
	}
	reacts := e.slack.waitFor(t, "reactions.add", 2)
	if r := reacts[1]; r.Form.Get("timestamp") != post.TS || r.Form.Get("channel") != "C0001" {
		t.Errorf("the verdict marked %v, want the answer", r.Form)
	}
	e.idle()
	counts, _ := e.stores.fb.FeedbackCounts(context.Background(), "something-went-wrong")
	if counts != (bot.FeedbackCounts{Solved: 1}) {
		t.Errorf("feedback counts %+v", counts)
	}
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Errorf("a verdict posted %d messages to the channel", n-1)
	}
	// The same user changing their mind replaces the verdict.
	e.click("U0021", "C0001", post.TS, root, false, e.slack.responseURL("fb2"), findButton(t, blocks, actionNotSolved))
	e.slack.waitFor(t, "chat.postMessage", 2)
	e.idle()
	counts, _ = e.stores.fb.FeedbackCounts(context.Background(), "something-went-wrong")
	if counts != (bot.FeedbackCounts{NotSolved: 1}) {
		t.Errorf("feedback counts after a change %+v", counts)
	}
}

// Not solved is answered in the thread with the next cause to try; All
// causes on that brief answer puts the whole answer in its place.
func TestNotSolvedOffersNextCause(t *testing.T) {
	e := newEnv(t)
	root := "1700000000.002000"
	e.sendEvent("EvNext", messageEvent("C0001", "channel", "U0020", autoMDMLine, root), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	first := firstCause(post.blocks(t))
	if !strings.Contains(headerText(post.blocks(t)), "Auto MDM Enroll") || first == "" {
		t.Fatalf("answer: %s", post.all())
	}

	e.click("U0020", "C0001", post.TS, root, false, e.slack.responseURL("ns"), findButton(t, post.blocks(t), actionNotSolved))
	next := e.slack.waitFor(t, "chat.postMessage", 2)[1]
	nb := next.blocks(t)
	if next.Form.Get("thread_ts") != root {
		t.Errorf("Not solved answered outside the thread: %v", next.Form)
	}
	if c := firstCause(nb); c == "" || c == first {
		t.Errorf("Not solved offers %q again, want the next cause", c)
	}
	if !strings.Contains(next.all(), "next most likely cause") || !hasButton(nb, actionPerson) || !hasButton(nb, actionAllCauses) {
		t.Errorf("the next cause is not introduced, or lacks All causes and Talk to a person: %s", next.all())
	}
	if strings.Contains(next.all(), "Cause 2 of 2") {
		t.Errorf("a follow-up shows more than the first cause: %s", next.all())
	}
	e.idle()
	if counts, _ := e.stores.fb.FeedbackCounts(context.Background(), "auto-mdm-enroll-failed"); counts.NotSolved != 1 {
		t.Errorf("feedback counts %+v", counts)
	}

	e.click("U0020", "C0001", next.TS, root, false, e.slack.responseURL("all"), findButton(t, nb, actionAllCauses))
	all := e.slack.waitResponse(t, "all", 1)
	if all.JSON["replace_original"] != true || !strings.Contains(all.all(), "Cause 2 of 2") {
		t.Errorf("All causes: %s", all.all())
	}

	// Talk to a person: the summary, below in the thread.
	e.click("U0020", "C0001", next.TS, root, false, e.slack.responseURL("person"), findButton(t, nb, actionPerson))
	person := e.slack.waitFor(t, "chat.postMessage", 3)[2]
	if person.Form.Get("thread_ts") != root || !strings.Contains(person.all(), "```") || !strings.Contains(person.all(), "0x8018002B") &&
		!strings.Contains(person.all(), "0x8018002b") {
		t.Errorf("hand-off: %s", person.all())
	}
}

// firstCause returns the summary of the first cause a message shows.
func firstCause(blocks []map[string]any) string {
	for _, b := range blocks {
		if b["type"] != "section" {
			continue
		}
		s := textOf(b["text"])
		if strings.HasPrefix(s, "*Cause") {
			_, after, _ := strings.Cut(s, ":* ")
			return after
		}
	}
	return ""
}

func TestShutdownWaitsForReplies(t *testing.T) {
	e := newEnv(t)
	e.sendEvent("EvShut", messageEvent("D0022", "im", "U0022", "0x80180014", "1700000000.002200"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.bot.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Fatalf("shutdown returned before the reply was posted (%d posts)", n)
	}
	// After shutdown, deliveries are not acknowledged: Slack sends them
	// again, to another replica or after the restart.
	status, _ := e.post(PathEvents, "application/json", eventBody("EvLate", messageEvent("D0022", "im", "U0022", "0x80180014", "1700000000.002201")), nil)
	if status != http.StatusServiceUnavailable {
		t.Errorf("late event answered %d, want 503", status)
	}
	if !strings.Contains(e.logs.String(), "shutting down") {
		t.Errorf("late event not logged")
	}
}

func TestShutdownBoundCancelsSlowReplies(t *testing.T) {
	blocked := make(chan struct{})
	e := newEnv(t, func(c *Config) {
		// The 429 wait blocks until the shutdown's bound cancels it.
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			close(blocked)
			<-ctx.Done()
			return ctx.Err()
		}
	})
	e.slack.fail["chat.postMessage"] = []failure{{status: 429, retryAfter: "1"}}
	e.sendEvent("EvSlow", messageEvent("D0023", "im", "U0023", "0x80180014", "1700000000.002300"), nil)
	<-blocked
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := e.bot.Shutdown(ctx); err == nil {
		t.Fatal("shutdown with a reply stuck reported no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown took %s past its 50ms bound", d)
	}
}

// flakyDedupe is a shared store that can be down: then every claim fails.
type flakyDedupe struct {
	down  atomic.Bool
	inner *bot.MemoryDedupe
}

func (f *flakyDedupe) SetIfAbsent(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if f.down.Load() {
		return false, errors.New("dedupe store down")
	}
	return f.inner.SetIfAbsent(ctx, key, ttl)
}

// With the shared store down at the first delivery, the event is not
// acknowledged (503), so Slack's retry, once the store is back, is
// answered: once, not at both deliveries (security review F10).
func TestDedupeStoreDownDefersToRetry(t *testing.T) {
	d := &flakyDedupe{inner: bot.NewMemoryDedupe()}
	d.down.Store(true)
	e := newEnv(t, func(c *Config) { c.Dedupe = d })
	body := eventBody("EvNoDedupe", messageEvent("D0024", "im", "U0024", "0x80180014", "1700000000.002400"))
	if status, _ := e.post(PathEvents, "application/json", body, nil); status != http.StatusServiceUnavailable {
		t.Fatalf("with the store down: status %d, want 503", status)
	}
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 0 {
		t.Fatalf("answered %d times while unacknowledged", n)
	}
	if !strings.Contains(e.logs.String(), "dedupe store down") {
		t.Errorf("the dedupe failure was not logged")
	}
	d.down.Store(false)
	retry := http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_error"}}
	for range 2 {
		if status, _ := e.post(PathEvents, "application/json", body, retry); status != http.StatusOK {
			t.Fatalf("retry: status %d", status)
		}
	}
	e.slack.waitFor(t, "chat.postMessage", 1)
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Errorf("answered %d times, want once", n)
	}
}

// Thanks in a channel thread after an answer is acknowledged with a
// reaction on the thanks, and nothing is posted.
func TestThanksInThreadReacts(t *testing.T) {
	e := newEnv(t)
	root := "1700000000.002500"
	e.sendEvent("EvThanksQ", messageEvent("C0001", "channel", "U0025", "Enrollment fails with 0x80180014", root), nil)
	e.slack.waitFor(t, "chat.postMessage", 1)
	e.slack.waitFor(t, "reactions.add", 1)
	thanks := messageEvent("C0001", "channel", "U0025", "thanks, that fixed it!", "1700000000.002501")
	thanks["thread_ts"] = root
	e.sendEvent("EvThanks", thanks, nil)
	react := e.slack.waitFor(t, "reactions.add", 2)[1]
	if react.Form.Get("timestamp") != "1700000000.002501" || react.Form.Get("channel") != "C0001" {
		t.Errorf("reaction on %v, want the thanks", react.Form)
	}
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Errorf("thanks in a thread posted %d messages", n-1)
	}
	if counts, _ := e.stores.fb.FeedbackCounts(context.Background(), "your-organization-does-not-support-this-version-of-windows"); counts.Solved != 1 {
		t.Errorf("thanks after an answer not counted as solved: %+v", counts)
	}
}

// A long log pasted in a channel, its code line near the end, is read
// whole and answered in a thread.
func TestLongLogInChannelAnswered(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	for i := 0; b.Len() < 12_800; i++ {
		fmt.Fprintf(&b, "2024-05-%02d 10:%02d:%02d.%03d Information MDM PolicyManager: Policy refresh %d completed for area DeviceLock, result 0x0.\n",
			i%28+1, i%60, (i*7)%60, i%1000, i)
	}
	b.WriteString("2024-05-28 10:59:58.120 Error DeviceManagement-Enterprise-Diagnostics-Provider: " + autoMDMLine + "\n")
	b.WriteString("2024-05-28 10:59:59.001 Information MDM Session: OMA-DM session ended.\n")
	log := b.String()
	if len(log) < 13_000 || len(log) > 13_300 || !strings.Contains(log[len(log)-300:], "0x8018002b") {
		t.Fatalf("the log is %d characters, its code at %d", len(log), strings.Index(log, "0x8018002b"))
	}
	root := "1700000000.002600"
	e.sendEvent("EvLog", messageEvent("C0001", "channel", "U0026", log, root), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if post.Form.Get("thread_ts") != root {
		t.Errorf("answered outside a thread: %v", post.Form)
	}
	if h := headerText(post.blocks(t)); !strings.Contains(h, "Auto MDM Enroll") {
		t.Errorf("a long log answered with %q: %s", h, post.all())
	}
	checkLimits(t, "long log", post.blocks(t), post.text())
}

// One message is one turn: one reply observed and one limiter count, in a
// channel and in a direct message, also when the user's locale is not
// cached yet (it is looked up first, and the engine runs once).
func TestOneMessageOneTurn(t *testing.T) {
	e := newEnv(t)
	e.slack.locales["U0027"] = "de-DE"
	e.sendEvent("EvOnce1", messageEvent("C0001", "channel", "U0027", "0x80180014", "1700000000.002700"), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	e.idle()
	if allows, replies := e.count.Counts(); allows != 1 || len(replies) != 1 || replies[0] != bot.KindAnswer {
		t.Errorf("a channel message: %d limiter counts, replies observed %v", allows, replies)
	}
	if !strings.Contains(post.all(), "Ursache") {
		t.Errorf("the locale looked up first did not decide the language: %s", post.all())
	}
	if n := len(e.slack.byMethod("users.info")); n != 1 {
		t.Errorf("%d locale lookups", n)
	}

	e.slack.locales["U0028"] = "sv-SE"
	e.sendEvent("EvOnce2", messageEvent("D0028", "im", "U0028", "0x80180014", "1700000000.002800"), nil)
	post = e.slack.waitFor(t, "chat.postMessage", 2)[1]
	e.idle()
	if allows, replies := e.count.Counts(); allows != 2 || len(replies) != 2 {
		t.Errorf("and a direct message: %d limiter counts, %d replies observed", allows, len(replies))
	}
	if !strings.Contains(post.all(), "Orsak") {
		t.Errorf("locale sv-SE ignored: %s", post.all())
	}
}

// Over the rate limit a direct question is asked to wait; in a channel the
// bot stays silent.
func TestRateLimitedUser(t *testing.T) {
	e := newEnv(t)
	e.count.Limit = 1
	e.sendEvent("EvLimit1", messageEvent("D0029", "im", "U0029", "0x80180014", "1700000000.002900"), nil)
	e.slack.waitFor(t, "chat.postMessage", 1)
	e.sendEvent("EvLimit2", messageEvent("D0029", "im", "U0029", "0x80180014", "1700000000.002901"), nil)
	wait := e.slack.waitFor(t, "chat.postMessage", 2)[1]
	if !strings.Contains(wait.all(), "Wait a minute") || hasButton(wait.blocks(t), "enroll_") {
		t.Errorf("over the limit: %s", wait.all())
	}
	e.sendEvent("EvLimit3", messageEvent("C0001", "channel", "U0029", "0x80180014", "1700000000.002902"), nil)
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 2 {
		t.Errorf("over the limit in a channel: %d posts, want none", n-2)
	}
}

// A question's option button answers it: the answer is weighed again and
// the update posted in the thread.
func TestQuestionOptionButton(t *testing.T) {
	e := newEnv(t)
	root := "1700000000.003100"
	e.sendEvent("EvOpt", messageEvent("C0001", "channel", "U0031", "0x80180026", root), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	var opt map[string]any
	for _, b := range post.blocks(t) {
		if b["type"] != "actions" {
			continue
		}
		for _, el := range b["elements"].([]any) {
			btn := el.(map[string]any)
			if strings.Contains(btn["value"].(string), `"p":"autopilot"`) {
				opt = btn
			}
		}
	}
	if opt == nil {
		t.Fatalf("no Autopilot option: %s", post.all())
	}
	e.click("U0031", "C0001", post.TS, root, false, e.slack.responseURL("opt"), opt)
	update := e.slack.waitFor(t, "chat.postMessage", 2)[1]
	if update.Form.Get("thread_ts") != root || !strings.Contains(update.all(), "Windows Autopilot") || !strings.Contains(update.all(), "Noted") {
		t.Errorf("option answered with: %s", update.all())
	}
}

// A related entry offered next to an answer is answered below it in the
// thread; the answer stays.
func TestRelatedPickPostsInThread(t *testing.T) {
	e := newEnv(t)
	root := "1700000000.003200"
	e.sendEvent("EvRel", messageEvent("C0001", "channel", "U0032", "Profile installation failed. Connection to the server could not be established.", root), nil)
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	btn := findButton(t, post.blocks(t), actionRelatedPrefix)
	e.click("U0032", "C0001", post.TS, root, false, e.slack.responseURL("rel"), btn)
	rel := e.slack.waitFor(t, "chat.postMessage", 2)[1]
	if rel.Form.Get("thread_ts") != root || headerText(rel.blocks(t)) == headerText(post.blocks(t)) || headerText(rel.blocks(t)) == "" {
		t.Errorf("related pick: thread %q header %q", rel.Form.Get("thread_ts"), headerText(rel.blocks(t)))
	}
	e.idle()
	if n := len(e.slack.byMethod("response_url")); n != 0 {
		t.Errorf("a related pick replaced the answer")
	}
}

// A forged or stale button value, or one naming another conversation, is
// refused without a turn.
func TestClickValidated(t *testing.T) {
	e := newEnv(t)
	for i, value := range []string{
		`{"a":"pick","c":"slack:C0999:1700000000.000001","e":"device-cap-reached","l":"en"}`,
		`{"a":"pick","c":"slack:cmd:C0001:U0999","e":"device-cap-reached","l":"en"}`,
		`{"a":"fly"}`,
		`{"a":"pick","e":"<!channel>"}`,
		`not json`,
	} {
		e.click("U0033", "C0001", "1700000100.00330"+string(rune('0'+i)), "1700000000.003300", false, e.slack.responseURL("forged"),
			map[string]any{"action_id": "enroll_pick_1", "value": value})
	}
	e.idle()
	if calls := e.slack.snapshot(); len(calls) != 0 {
		t.Errorf("forged clicks made API calls: %v", methods(calls))
	}
	if allows, _ := e.count.Counts(); allows != 0 {
		t.Errorf("forged clicks made %d turns", allows)
	}
}

// A replayed signed /enroll is answered once, and a double-clicked "Post
// to channel" posts once (security review F4).
func TestReplayAndDoubleClickAnsweredOnce(t *testing.T) {
	e := newEnv(t)
	body := commandBody("C0001", "U0031", "0x80180014", e.slack.responseURL("replay"))
	for range 2 {
		if status, resp := e.post(PathCommands, "application/x-www-form-urlencoded", body, nil); status != http.StatusOK {
			t.Fatalf("command: %d %q", status, resp)
		}
	}
	resp := e.slack.waitResponse(t, "replay", 1)
	e.idle()
	if n := len(e.slack.byMethod("response_url")); n != 1 {
		t.Errorf("a replayed command was answered %d times", n)
	}

	share := findButton(t, resp.blocks(t), actionShare)
	for range 2 {
		e.click("U0031", "C0001", "1700000300.000001", "", true, e.slack.responseURL("replay-share"), share)
	}
	e.slack.waitFor(t, "chat.postMessage", 1)
	e.idle()
	if n := len(e.slack.byMethod("chat.postMessage")); n != 1 {
		t.Errorf("a double-clicked Post to channel posted %d times", n)
	}
}
