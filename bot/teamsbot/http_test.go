package teamsbot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

const germanPaste = "Hallo, auf dem iPhone eines Kollegen steht beim Registrieren im Unternehmensportal: " +
	"Gerätekapazität erreicht. Was kann ich tun?"

func activitiesPath(conv, id string) string {
	p := "/amer/v3/conversations/" + url.PathEscape(conv) + "/activities"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

func TestPersonalMessageWithCode(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "0x80180014")
	if status := h.post(act); status != 200 {
		t.Fatalf("status %d\n%s", status, h.log.String())
	}
	c := h.only()
	if c.Method != "POST" || c.Path != activitiesPath(personalConv, act["id"].(string)) {
		t.Errorf("reply went to %s %s", c.Method, c.Path)
	}
	if c.Auth != "Bearer tok-1" {
		t.Errorf("Authorization %q, want the token from the token endpoint", c.Auth)
	}
	b := c.Body
	if b["type"] != "message" || b["replyToId"] != act["id"] {
		t.Errorf("type %v, replyToId %v", b["type"], b["replyToId"])
	}
	from, _ := b["from"].(map[string]any)
	to, _ := b["recipient"].(map[string]any)
	conv, _ := b["conversation"].(map[string]any)
	if from["id"] != testBotID || to["id"] != testUserID || conv["id"] != personalConv {
		t.Errorf("from %v, recipient %v, conversation %v", from, to, conv)
	}
	if s, _ := b["summary"].(string); s == "" {
		t.Error("no summary for the notification")
	}
	for _, unset := range []string{"timestamp", "localTimestamp", "expiration", "relatesTo", "suggestedActions", "semanticAction"} {
		if v, ok := b[unset]; ok {
			t.Errorf("the reply sends the unset %s: %v", unset, v)
		}
	}
	card := c.card(t)
	if card["type"] != "AdaptiveCard" || card["lang"] != "en" || card["version"] != CardVersion {
		t.Errorf("card type %v, lang %v, version %v", card["type"], card["lang"], card["version"])
	}
	if fb, _ := card["fallbackText"].(string); !strings.Contains(fb, "0x80180014") {
		t.Errorf("fallback text %q lacks the code", fb)
	}
	texts := c.texts(t)
	for _, want := range []string{"Error code 0x80180014", "MENROLL_E_DEVICENOTSUPPORTED", "[Solved]", "[Not solved]", "[Source]", "Steps", "1. "} {
		if !strings.Contains(texts, want) {
			t.Errorf("card lacks %q:\n%s", want, texts)
		}
	}
	raw, _ := json.Marshal(card)
	checkCard(t, "personal reply", raw)
	if h.conn.tokenCount() != 1 {
		t.Errorf("%d token requests, want 1", h.conn.tokenCount())
	}
}

func TestChannelMentionGermanInThread(t *testing.T) {
	h := newHarness(t, false, nil)
	act := channel(h.conn.serviceURL(), germanPaste, true)
	if status := h.post(act); status != 200 {
		t.Fatalf("status %d", status)
	}
	c := h.only()
	conv := act["conversation"].(map[string]any)["id"].(string)
	if c.Path != activitiesPath(conv, act["id"].(string)) {
		t.Errorf("reply went to %s, want the thread %s", c.Path, activitiesPath(conv, act["id"].(string)))
	}
	if !strings.Contains(c.Path, "%3Bmessageid=") {
		t.Errorf("path %s does not name the thread", c.Path)
	}
	card := c.card(t)
	if card["lang"] != "de" {
		t.Errorf("card language %v, want de (the user's words beat the en-US locale)", card["lang"])
	}
	texts := c.texts(t)
	for _, want := range []string{"Gerätekapazität erreicht", "[Gelöst]", "[Nicht gelöst]", "Schritte"} {
		if !strings.Contains(texts, want) {
			t.Errorf("card lacks %q:\n%s", want, texts)
		}
	}
	if strings.Contains(texts, "<at>") {
		t.Errorf("the mention leaked into the reply:\n%s", texts)
	}
}

func TestChannelWithoutMentionIgnored(t *testing.T) {
	h := newHarness(t, false, nil)
	if status := h.post(channel(h.conn.serviceURL(), "0x80180014", false)); status != 200 {
		t.Fatalf("status %d", status)
	}
	group := personal(h.conn.serviceURL(), "0x80180014")
	group["conversation"] = map[string]any{"id": groupConv, "conversationType": "groupChat", "isGroup": true, "tenantId": testTenant}
	if status := h.post(group); status != 200 {
		t.Fatalf("status %d", status)
	}
	if calls := h.calls(); len(calls) != 0 {
		t.Fatalf("the bot spoke unasked: %+v", calls)
	}
	// Mentioned in the group chat, it answers there (no threads).
	group = personal(h.conn.serviceURL(), "<at>enrollbot</at> 0x80180014")
	group["conversation"] = map[string]any{"id": groupConv, "conversationType": "groupChat", "isGroup": true, "tenantId": testTenant}
	group["entities"] = []any{map[string]any{"type": "mention", "text": "<at>enrollbot</at>",
		"mentioned": map[string]any{"id": testBotID, "name": testBotName}}}
	h.post(group)
	if c := h.only(); c.Path != activitiesPath(groupConv, group["id"].(string)) {
		t.Errorf("group reply went to %s", c.Path)
	}
}

func TestOwnMessagesIgnored(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "0x80180014")
	act["from"] = map[string]any{"id": testBotID, "name": testBotName}
	h.post(act)
	if calls := h.calls(); len(calls) != 0 {
		t.Fatalf("the bot answered itself: %+v", calls)
	}
}

// button returns the data of the card's first button for action (with
// field = value when field is set), failing when there is none.
func button(t testing.TB, c call, action bot.Action, field, value string) map[string]any {
	t.Helper()
	for _, d := range c.submits(t) {
		if d["enrollbot"] == string(action) && (field == "" || d[field] == value) {
			return d
		}
	}
	t.Fatalf("no %s button (%s=%s) on the card:\n%s", action, field, value, c.texts(t))
	return nil
}

func TestCardSubmitPicksCandidate(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "profile installation failed")
	h.post(act)
	choices := h.only()
	picks := choices.submits(t)
	if len(picks) < 2 || picks[1]["enrollbot"] != string(bot.ActPick) || picks[1]["_title"] != "2" {
		t.Fatalf("choices card buttons: %v\n%s", picks, choices.texts(t))
	}
	want := picks[1]["e"].(string)
	raw, _ := json.Marshal(choices.card(t))
	checkCard(t, "choices", raw)

	// The click arrives as a message whose value is the button's data, and
	// no text: it is the pick of that entry, not a number typed.
	h.post(submitOf(act, cardID(1), picks[1]))
	calls := h.calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls after the click, want 2\n%s", len(calls), h.log.String())
	}
	answer := calls[1]
	if d := button(t, answer, bot.ActSolved, "", ""); d["e"] != want {
		t.Errorf("answered entry %v, want the picked %s", d["e"], want)
	}
	entry, _ := newEngine(t).Catalog().Entry(want)
	if texts := answer.texts(t); !strings.Contains(texts, entry.Title.In(kb.English)) {
		t.Errorf("answer card does not show %q:\n%s", entry.Title.In(kb.English), texts)
	}
	st, _, _ := h.store.Conversation(context.Background(), "teams:"+personalConv)
	if st.Entry != want || st.Last != bot.KindAnswer {
		t.Errorf("conversation state %+v, want the picked entry answered", st)
	}
}

// Each button stands for one engine input, whatever the state of the
// conversation it was clicked in.
func TestButtonsMapToInputs(t *testing.T) {
	cases := []struct {
		name string
		data map[string]any
		kind bot.Kind
		text string
		// fresh clicks in a conversation that expired (or never was).
		fresh bool
	}{
		{"pick", map[string]any{"enrollbot": "pick", "e": "device-cap-reached", "l": "en"}, bot.KindAnswer, "Device Cap Reached", false},
		// The card's language stands in for the conversation's.
		{"pick expired", map[string]any{"enrollbot": "pick", "e": "device-cap-reached", "l": "de"}, bot.KindAnswer, "Gerätekapazität erreicht", true},
		{"solved expired", map[string]any{"enrollbot": "solved", "e": "device-cap-reached", "l": "nl"}, bot.KindSmalltalk, "Fijn", true},
		{"person", map[string]any{"enrollbot": "person", "l": "en"}, bot.KindHandoff, "I can't reach a person from here", false},
		{"summary", map[string]any{"enrollbot": "summary", "l": "en"}, bot.KindSummary, "Here is what we have so far", false},
		{"all causes", map[string]any{"enrollbot": "all_causes", "l": "en"}, bot.KindAnswer, "Cause 3 of 3", false},
		{"lang", map[string]any{"enrollbot": "lang", "l": "sv"}, bot.KindAnswer, "Jag svarar på svenska", false},
		{"legacy answer", map[string]any{"enrollbot": "answer", "e": "auto-mdm-enroll-failed", "q": "users-affected", "o": "all", "l": "en"},
			bot.KindAnswer, "Noted: All users.", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, false, nil)
			act := personal(h.conn.serviceURL(), "auto mdm enroll failed")
			if !c.fresh {
				h.post(act)
			}
			h.post(submitOf(act, cardID(1), c.data))
			last := h.last()
			if kind := h.count.LastKind(); kind != c.kind {
				t.Errorf("%v: a %s reply, want %s", c.data, kind, c.kind)
			}
			if texts := last.texts(t); !strings.Contains(texts, c.text) {
				t.Errorf("%v: the reply lacks %q:\n%s", c.data, c.text, texts)
			}
			raw, _ := json.Marshal(last.card(t))
			checkCard(t, c.name, raw)
		})
	}
}

func TestChannelPickContinuesTheThread(t *testing.T) {
	h := newHarness(t, false, nil)
	act := channel(h.conn.serviceURL(), "profile installation failed", true)
	h.post(act)
	picks := h.only().submits(t)
	if len(picks) == 0 {
		t.Fatalf("no pick buttons:\n%s", h.only().texts(t))
	}
	// The click arrives in the thread, without a mention.
	h.post(submitOf(act, cardID(1), picks[0]))
	conv := act["conversation"].(map[string]any)["id"].(string)
	last := h.last()
	if len(h.calls()) != 2 || !strings.HasPrefix(last.Path, activitiesPath(conv, "")+"/") {
		t.Fatalf("the pick was answered at %s, want the thread %s", last.Path, activitiesPath(conv, ""))
	}
	st, ok, _ := h.store.Conversation(context.Background(), "teams:"+conv)
	if !ok || st.Entry != picks[0]["e"] {
		t.Errorf("thread state %+v, want the picked entry", st)
	}
}

func TestQuestionChoiceSetAnswersOneQuestion(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "0x80180014")
	h.post(act)
	first := h.only()
	users := button(t, first, bot.ActChoose, "q", "users-affected")
	if users["_title"] != answerButton {
		t.Errorf("answer button %q", users["_title"])
	}
	if texts := first.texts(t); !strings.Contains(texts, "<One user>") {
		t.Fatalf("no choice set with the options:\n%s", texts)
	}
	// Teams sends the option picked in the choice set beside the button's
	// data.
	users[optionInput("users-affected")] = "one"
	h.post(submitOf(act, cardID(1), users))
	again := h.last()
	if texts := again.texts(t); !strings.Contains(texts, "Noted: One user.") {
		t.Errorf("no word that the answer was noted:\n%s", texts)
	}
	st, ok, _ := h.store.Conversation(context.Background(), "teams:"+personalConv)
	if !ok || st.Facts["users-affected"] != "one" || len(st.Facts) != 1 {
		t.Errorf("state facts %v, want users-affected=one alone", st.Facts)
	}
	for _, d := range again.submits(t) {
		if d["q"] == "users-affected" {
			t.Errorf("the answered question is asked again: %v", d)
		}
	}
	// Sent with nothing picked: no turn, no reply.
	calls, _ := countsOf(h.count)
	h.post(submitOf(act, cardID(2), button(t, again, bot.ActChoose, "", "")))
	if n, _ := countsOf(h.count); n != calls || len(h.calls()) != 2 {
		t.Errorf("an empty answer was taken: %d turns, %d calls", n-calls, len(h.calls()))
	}
}

func TestSolvedButtonRecordsFeedback(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "0x80180014")
	h.post(act)
	solved := button(t, h.only(), bot.ActSolved, "", "")
	entry := solved["e"].(string)
	h.post(submitOf(act, cardID(1), solved))
	thanks := h.last()
	if thanks.Method != "POST" || !strings.Contains(thanks.texts(t), "Glad that fixed it") {
		t.Errorf("after Solved: %s %s\n%s", thanks.Method, thanks.Path, thanks.texts(t))
	}
	counts, _ := h.feedback.FeedbackCounts(context.Background(), entry)
	if counts.Solved != 1 || counts.NotSolved != 0 {
		t.Errorf("feedback counts %+v", counts)
	}
	// The same user changing their mind on the same card replaces the
	// verdict.
	h.post(submitOf(act, cardID(1), button(t, h.calls()[0], bot.ActNotSolved, "", "")))
	counts, _ = h.feedback.FeedbackCounts(context.Background(), entry)
	if counts.Solved != 0 || counts.NotSolved != 1 {
		t.Errorf("feedback counts after the change %+v", counts)
	}
}

func TestNotSolvedOffersNextCause(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "auto mdm enroll failed")
	h.post(act)
	st, _, _ := h.store.Conversation(context.Background(), "teams:"+personalConv)
	if len(st.Causes) < 2 {
		t.Fatalf("state causes %v, want an entry with several", st.Causes)
	}
	h.post(submitOf(act, cardID(1), button(t, h.only(), bot.ActNotSolved, "", "")))
	next := h.last()
	after, _, _ := h.store.Conversation(context.Background(), "teams:"+personalConv)
	if len(after.Causes) == 0 || after.Causes[0] == st.Causes[0] {
		t.Fatalf("first cause %v before and after Not solved", st.Causes[0])
	}
	texts := next.texts(t)
	for _, want := range []string{"Then the next most likely cause is", "[Talk to a person]", "[All causes (", "more cause(s)"} {
		if !strings.Contains(texts, want) {
			t.Errorf("the next cause's card lacks %q:\n%s", want, texts)
		}
	}
	counts, _ := h.feedback.FeedbackCounts(context.Background(), "auto-mdm-enroll-failed")
	if counts.NotSolved != 1 {
		t.Errorf("feedback counts %+v, want one not solved", counts)
	}
	// All causes, one tap away.
	h.post(submitOf(act, cardID(2), button(t, next, bot.ActAllCauses, "", "")))
	if texts := h.last().texts(t); !strings.Contains(texts, "Cause 2 of") {
		t.Errorf("all causes:\n%s", texts)
	}
}

func TestThanksRecordsSolved(t *testing.T) {
	h := newHarness(t, false, nil)
	h.post(personal(h.conn.serviceURL(), "0x80180014"))
	h.post(personal(h.conn.serviceURL(), "thanks, that worked"))
	counts, _ := h.feedback.FeedbackCounts(context.Background(), "your-organization-does-not-support-this-version-of-windows")
	if counts.Solved != 1 {
		t.Errorf("feedback counts %+v, want one solved", counts)
	}
	if texts := h.last().texts(t); !strings.Contains(texts, "Glad that fixed it") {
		t.Errorf("reply to thanks:\n%s", texts)
	}
}

// Sessions counts the rate limit and observes the reply once a turn: the
// adapter adds none of its own.
func TestOneMessageOneReply(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "0x80180014")
	h.post(act)
	if allows, replies := countsOf(h.count); allows != 1 || replies != 1 || len(h.calls()) != 1 {
		t.Errorf("one message: %d limiter counts, %d replies observed, %d posted", allows, replies, len(h.calls()))
	}
	h.post(submitOf(act, cardID(1), button(t, h.only(), bot.ActNotSolved, "", "")))
	if allows, replies := countsOf(h.count); allows != 2 || replies != 2 || len(h.calls()) != 2 {
		t.Errorf("and one click: %d limiter counts, %d replies observed, %d posted", allows, replies, len(h.calls()))
	}
	// A redelivery is no turn at all.
	h.post(act)
	if allows, replies := countsOf(h.count); allows != 2 || replies != 2 {
		t.Errorf("after a redelivery: %d limiter counts, %d replies observed", allows, replies)
	}
}

func TestRateLimitedGetsACard(t *testing.T) {
	h := newHarness(t, false, nil)
	h.count.Limit = 1
	h.post(personal(h.conn.serviceURL(), "0x80180014"))
	h.post(personal(h.conn.serviceURL(), "0x80180010"))
	last := h.last()
	if texts := last.texts(t); !strings.Contains(texts, "Wait a minute") {
		t.Errorf("over the limit:\n%s", texts)
	}
	raw, _ := json.Marshal(last.card(t))
	checkCard(t, "limited", raw)
}

func TestLangCommandAndPreference(t *testing.T) {
	h := newHarness(t, false, nil)
	h.post(personal(h.conn.serviceURL(), "lang nl"))
	if texts := h.last().texts(t); !strings.Contains(texts, "Nederlands") {
		t.Errorf("confirmation:\n%s", texts)
	}
	if l, ok, _ := h.prefs.Lang(context.Background(), "teams:"+testUserAAD); !ok || l != kb.Dutch {
		t.Errorf("saved %q %v", l, ok)
	}
	// The preference beats the words (English) and the locale (en-US), in
	// a new conversation too.
	h.post(channel(h.conn.serviceURL(), "Enrollment fails with 0x80180014", true))
	if lang := h.last().card(t)["lang"]; lang != "nl" {
		t.Errorf("reply in %v, want nl", lang)
	}
	// In a channel, with the mention.
	h.post(channel(h.conn.serviceURL(), "lang auto", true))
	if _, ok, _ := h.prefs.Lang(context.Background(), "teams:"+testUserAAD); ok {
		t.Error("lang auto kept the preference")
	}
	if texts := h.last().texts(t); !strings.Contains(texts, "Language preference cleared") {
		t.Errorf("lang auto:\n%s", texts)
	}
	h.post(personal(h.conn.serviceURL(), "lang klingon"))
	if texts := h.last().texts(t); !strings.Contains(texts, "lang auto") {
		t.Errorf("usage:\n%s", texts)
	}
	// Help and greetings are the engine's. (The personal chat, where the
	// user chose Dutch, stays Dutch: the choice is the conversation's too.)
	h.post(channel(h.conn.serviceURL(), "help", true))
	if texts := h.last().texts(t); !strings.Contains(texts, "I understand:") {
		t.Errorf("help:\n%s", texts)
	}
}

// "lang nl" in a conversation about an error shows the answer again, in
// Dutch, and saves the choice.
func TestLangResendsTheAnswer(t *testing.T) {
	h := newHarness(t, false, nil)
	h.post(personal(h.conn.serviceURL(), "0x80180014"))
	h.post(personal(h.conn.serviceURL(), "lang nl"))
	last := h.last()
	if lang := last.card(t)["lang"]; lang != "nl" {
		t.Errorf("reply in %v, want nl", lang)
	}
	entry, _ := newEngine(t).Catalog().Entry("your-organization-does-not-support-this-version-of-windows")
	texts := last.texts(t)
	if !strings.Contains(texts, entry.Title.In(kb.Dutch)) || !strings.Contains(texts, "[Opgelost]") {
		t.Errorf("the answer is not shown again in Dutch:\n%s", texts)
	}
	if l, ok, _ := h.prefs.Lang(context.Background(), "teams:"+testUserAAD); !ok || l != kb.Dutch {
		t.Errorf("saved %q %v", l, ok)
	}
}

func TestLocaleDecidesWhenWordsDoNot(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "0x80180014")
	act["locale"] = "sv-SE"
	h.post(act)
	if lang := h.last().card(t)["lang"]; lang != "sv" {
		t.Errorf("reply in %v, want sv from the locale", lang)
	}
}

func TestWelcomeOnInstall(t *testing.T) {
	h := newHarness(t, false, nil)
	act := baseActivity(h.conn.serviceURL(), "conversationUpdate")
	act["locale"] = "nl-NL"
	act["conversation"] = map[string]any{"id": personalConv, "conversationType": "personal", "tenantId": testTenant}
	act["membersAdded"] = []any{map[string]any{"id": testBotID}}
	if status := h.post(act); status != 200 {
		t.Fatalf("status %d", status)
	}
	c := h.only()
	if c.Path != activitiesPath(personalConv, "") {
		t.Errorf("welcome went to %s, want a new message in the chat", c.Path)
	}
	if !strings.Contains(c.texts(t), "Hallo, ik ben enrollbot") {
		t.Errorf("welcome:\n%s", c.texts(t))
	}
	raw, _ := json.Marshal(c.card(t))
	checkCard(t, "welcome", raw)

	// Added to a team: a new post in the channel it was added through.
	team := baseActivity(h.conn.serviceURL(), "conversationUpdate")
	team["conversation"] = map[string]any{"id": channelConv, "conversationType": "channel", "isGroup": true, "tenantId": testTenant}
	team["membersAdded"] = []any{map[string]any{"id": testBotID}}
	h.post(team)
	if c := h.last(); c.Path != activitiesPath(channelConv, "") || !strings.Contains(c.texts(t), "Hi, I'm enrollbot") {
		t.Errorf("team welcome went to %s:\n%s", c.Path, c.texts(t))
	}

	// Someone else joining is no reason to speak.
	other := baseActivity(h.conn.serviceURL(), "conversationUpdate")
	other["conversation"] = map[string]any{"id": channelConv, "conversationType": "channel", "tenantId": testTenant}
	other["membersAdded"] = []any{map[string]any{"id": "29:someone-else"}}
	h.post(other)
	if n := len(h.calls()); n != 2 {
		t.Errorf("%d calls, want no greeting for another member", n)
	}
}

func TestUnsupportedActivitiesIgnored(t *testing.T) {
	h := newHarness(t, false, nil)
	for _, typ := range []string{"typing", "messageReaction", "installationUpdate", "event", "invoke", "messageUpdate", "somethingNew"} {
		act := baseActivity(h.conn.serviceURL(), typ)
		act["conversation"] = map[string]any{"id": personalConv, "conversationType": "personal"}
		act["value"] = "not an object"
		act["reactionsAdded"] = []any{map[string]any{"type": "like"}}
		if status := h.post(act); status != 200 {
			t.Errorf("%s: status %d, want 200", typ, status)
		}
	}
	if calls := h.calls(); len(calls) != 0 {
		t.Errorf("replies to ignored activities: %+v", calls)
	}
	if !strings.Contains(h.log.String(), "teams activity ignored") {
		t.Errorf("no log line for ignored types:\n%s", h.log.String())
	}
}

func TestRedeliveryAnsweredOnce(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), "0x80180014")
	h.post(act)
	h.post(act)
	if n := len(h.calls()); n != 1 {
		t.Fatalf("%d replies to one activity delivered twice", n)
	}
}

// downDedupe is a shared store that is down until up is set.
type downDedupe struct {
	up    atomic.Bool
	inner *bot.MemoryDedupe
}

func (d *downDedupe) SetIfAbsent(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if !d.up.Load() {
		return false, errors.New("store down")
	}
	return d.inner.SetIfAbsent(ctx, key, ttl)
}

// An activity whose reply cannot be queued (the store is down) is not
// acknowledged; redelivered once the store is back, it is answered once.
func TestQueueDownDefersToRedelivery(t *testing.T) {
	d := &downDedupe{inner: bot.NewMemoryDedupe()}
	h := newHarness(t, false, func(c *Config) { c.Dedupe = d })
	act := personal(h.conn.serviceURL(), "0x80180014")
	if status := h.post(act); status != http.StatusServiceUnavailable {
		t.Fatalf("with the store down: status %d, want 503", status)
	}
	if n := len(h.calls()); n != 0 {
		t.Fatalf("%d replies to an unacknowledged activity", n)
	}
	d.up.Store(true)
	for range 2 {
		if status := h.post(act); status != http.StatusOK {
			t.Fatalf("redelivery: status %d", status)
		}
	}
	if n := len(h.calls()); n != 1 {
		t.Errorf("%d replies, want one", n)
	}
}

func TestHugeMessageBounded(t *testing.T) {
	h := newHarness(t, false, nil)
	act := personal(h.conn.serviceURL(), strings.Repeat("0x80180014 Gerätekapazität ", 40000))
	raw, _ := json.Marshal(act)
	if len(raw) < 1<<20 {
		t.Fatalf("message of %d bytes, want over 1 MB", len(raw))
	}
	tok := h.sign.token(t, h.conn.serviceURL(), nil)
	if status := h.postRaw(raw, tok); status != 413 {
		t.Errorf("status %d, want 413", status)
	}
	if n := len(h.calls()); n != 0 {
		t.Errorf("%d replies to a refused request", n)
	}
	if !strings.Contains(h.log.String(), "body too large") {
		t.Error("no log line")
	}
	// Just within the cap, a long paste is answered, its excess ignored.
	act = personal(h.conn.serviceURL(), "0x80180014 "+strings.Repeat("x", DefaultMaxBody-4096))
	if status := h.post(act); status != 200 {
		t.Fatalf("status %d", status)
	}
	texts := h.only().texts(t)
	if !strings.Contains(texts, "0x80180014") {
		t.Errorf("long message answer:\n%s", texts)
	}
}

func TestMalformedBodies(t *testing.T) {
	h := newHarness(t, true, nil)
	for _, body := range []string{"", "{", "[]", `{"type":""}`, `{"type":"message","entities":"x"}`, "\xff\xfe"} {
		if status := h.postRaw([]byte(body), ""); status != 400 {
			t.Errorf("%q: status %d, want 400", body, status)
		}
	}
}

func TestAuthRejections(t *testing.T) {
	h := newHarness(t, false, nil)
	su := h.conn.serviceURL()
	h.sign.addKey(t, "forger", false)
	cases := []struct {
		name string
		tok  func() string
	}{
		{"no token", func() string { return "" }},
		{"not a JWT", func() string { return "abc.def" }},
		{"bad signature", func() string {
			// Signed with an unpublished key under a published key id.
			return h.sign.token(t, su, func(_ jwt.MapClaims, hd map[string]any) { hd["kid"] = "key-1" }) + "x"
		}},
		{"signed by another key", func() string {
			tok := h.sign.token(t, su, func(_ jwt.MapClaims, hd map[string]any) { hd["kid"] = "forger" })
			// Claim the published key's id on the forger's signature.
			parts := strings.Split(tok, ".")
			hdr := h.sign.token(t, su, nil)
			return strings.Split(hdr, ".")[0] + "." + parts[1] + "." + parts[2]
		}},
		{"unknown key", func() string {
			return h.sign.token(t, su, func(_ jwt.MapClaims, hd map[string]any) { hd["kid"] = "forger" })
		}},
		{"expired", func() string {
			return h.sign.token(t, su, func(c jwt.MapClaims, _ map[string]any) {
				c["exp"] = time.Now().Add(-10 * time.Minute).Unix()
				c["nbf"] = time.Now().Add(-time.Hour).Unix()
			})
		}},
		{"no expiry", func() string {
			return h.sign.token(t, su, func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") })
		}},
		{"not yet valid", func() string {
			return h.sign.token(t, su, func(c jwt.MapClaims, _ map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() })
		}},
		{"wrong audience", func() string {
			return h.sign.token(t, su, func(c jwt.MapClaims, _ map[string]any) { c["aud"] = "another-app" })
		}},
		{"wrong issuer", func() string {
			return h.sign.token(t, su, func(c jwt.MapClaims, _ map[string]any) { c["iss"] = "https://sts.windows.net/x/" })
		}},
		{"serviceurl mismatch", func() string {
			return h.sign.token(t, "https://smba.trafficmanager.net/emea/", nil)
		}},
		{"no serviceurl", func() string {
			return h.sign.token(t, su, func(c jwt.MapClaims, _ map[string]any) { delete(c, "serviceurl") })
		}},
		{"HS256 with the public key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": testIssuer, "aud": testAppID,
				"exp": time.Now().Add(time.Hour).Unix(), "serviceurl": su})
			tok.Header["kid"] = "key-1"
			s, _ := tok.SignedString([]byte(h.sign.keys["key-1"].PublicKey.N.Bytes()))
			return s
		}},
		{"alg none", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"iss": testIssuer, "aud": testAppID,
				"exp": time.Now().Add(time.Hour).Unix(), "serviceurl": su})
			tok.Header["kid"] = "key-1"
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}},
	}
	for _, c := range cases {
		before := strings.Count(h.log.String(), "teams request rejected")
		if status := h.postWith(personal(su, "0x80180014"), c.tok()); status != 401 {
			t.Errorf("%s: status %d, want 401", c.name, status)
		}
		if after := strings.Count(h.log.String(), "teams request rejected"); after != before+1 {
			t.Errorf("%s: %d log lines, want 1", c.name, after-before)
		}
	}
	if calls := h.calls(); len(calls) != 0 {
		t.Fatalf("a rejected request was answered: %+v", calls)
	}
	// And a good token still works after all that.
	if status := h.post(personal(su, "0x80180014")); status != 200 || len(h.calls()) != 1 {
		t.Fatalf("valid token: status %d, %d calls\n%s", status, len(h.calls()), h.log.String())
	}
}

func TestEndorsementsChecked(t *testing.T) {
	h := newHarness(t, false, nil)
	h.sign.mu.Lock()
	h.sign.endorse = []string{"msteams", "webchat"}
	h.sign.mu.Unlock()
	if status := h.post(personal(h.conn.serviceURL(), "0x80180014")); status != 200 {
		t.Fatalf("endorsed channel: status %d", status)
	}
	act := personal(h.conn.serviceURL(), "0x80180014")
	act["channelId"] = "skype"
	if status := h.post(act); status != 401 {
		t.Errorf("a key not endorsed for the channel: status %d, want 401", status)
	}
}

func TestKeyRotationRefetches(t *testing.T) {
	h := newHarness(t, false, nil)
	su := h.conn.serviceURL()
	h.post(personal(su, "0x80180014"))
	md, keys := h.sign.hits()
	if md != 1 || keys != 1 {
		t.Fatalf("first request: %d metadata and %d key fetches, want 1 and 1", md, keys)
	}
	h.post(personal(su, "0x80180010"))
	if md2, keys2 := h.sign.hits(); md2 != md || keys2 != keys {
		t.Errorf("cached keys fetched again: %d, %d", md2, keys2)
	}
	// The Bot Framework rolls its keys: a token under a new key id makes
	// the bot fetch them at once.
	h.clock.Advance(2 * time.Minute)
	h.sign.addKey(t, "key-2", true)
	tok := h.sign.token(t, su, func(_ jwt.MapClaims, hd map[string]any) { hd["kid"] = "key-2" })
	if status := h.postWith(personal(su, "0x80180014 again"), tok); status != 200 {
		t.Fatalf("rotated key: status %d\n%s", status, h.log.String())
	}
	if _, keys3 := h.sign.hits(); keys3 != keys+1 {
		t.Errorf("%d key fetches after rotation, want %d", keys3, keys+1)
	}
	// Unknown key ids do not make it hammer the endpoint.
	for range 3 {
		tok := h.sign.token(t, su, func(_ jwt.MapClaims, hd map[string]any) { hd["kid"] = "nope" })
		h.postWith(personal(su, "x"), tok)
	}
	if _, keys4 := h.sign.hits(); keys4 != keys+1 {
		t.Errorf("%d key fetches after unknown ids, want still %d", keys4, keys+1)
	}
}

func TestNoAuthRepliesToLoopbackOnly(t *testing.T) {
	h := newHarness(t, true, nil)
	if h.bot.Authenticated() {
		t.Fatal("authenticated without credentials")
	}
	if status := h.postWith(personal(h.conn.serviceURL(), "0x80180014"), ""); status != 200 {
		t.Fatalf("status %d", status)
	}
	c := h.only()
	if c.Auth != "" {
		t.Errorf("Authorization %q without credentials", c.Auth)
	}
	if h.conn.tokenCount() != 0 {
		t.Error("token fetched without credentials")
	}
	for _, su := range []string{"https://smba.trafficmanager.net/emea/", "http://10.0.0.1/", "http://169.254.169.254/latest/", "file:///etc/passwd"} {
		if status := h.postWith(personal(su, "0x80180014"), ""); status != 403 {
			t.Errorf("%s: status %d, want 403", su, status)
		}
	}
	if n := len(h.calls()); n != 1 {
		t.Errorf("%d calls, want none to other hosts", n)
	}
}

func TestLoopbackGuardAtDial(t *testing.T) {
	cl := newReplyClient(time.Second, true, 4)
	// A name that is not loopback is refused when dialled, whatever the
	// URL check said.
	_, err := cl.Get("http://192.0.2.1:9/")
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("dial to a non-loopback address: %v", err)
	}
}

func TestConnectorRetriesAndTokenRefresh(t *testing.T) {
	h := newHarness(t, false, nil)
	h.conn.set(func(f *connectorFake) { f.fail = []int{503, 502} })
	h.post(personal(h.conn.serviceURL(), "0x80180014"))
	calls := h.calls()
	if len(calls) != 3 {
		t.Fatalf("%d attempts, want 3", len(calls))
	}
	// A doubling backoff, each wait jittered between half and all of it.
	if len(h.slept) != 2 || h.slept[0] < DefaultBackoff/2 || h.slept[0] > DefaultBackoff ||
		h.slept[1] < DefaultBackoff || h.slept[1] > 2*DefaultBackoff {
		t.Errorf("backoff %v", h.slept)
	}
	// A 401 for a token fetched a moment ago: another token would not do
	// better, so none is fetched and the call is not retried.
	h.conn.set(func(f *connectorFake) { f.fail = []int{401} })
	h.post(personal(h.conn.serviceURL(), "0x80180010"))
	if calls = h.calls(); len(calls) != 4 {
		t.Fatalf("a 401 for a fresh token: %d calls, want 4 (no retry)", len(calls))
	}
	// A 401 for an older token: the token is fetched again, once.
	h.clock.Advance(freshToken)
	h.conn.set(func(f *connectorFake) { f.fail = []int{401} })
	h.post(personal(h.conn.serviceURL(), "0x80180010 too"))
	calls = h.calls()
	if len(calls) != 6 || calls[4].Auth != "Bearer tok-1" || calls[5].Auth != "Bearer tok-2" {
		t.Fatalf("after a 401: %d calls, auth %q then %q", len(calls), calls[4].Auth, calls[len(calls)-1].Auth)
	}
	// A 400 is not retried.
	h.conn.set(func(f *connectorFake) { f.fail = []int{400} })
	h.post(personal(h.conn.serviceURL(), "0x80180010 again"))
	if n := len(h.calls()); n != 7 {
		t.Errorf("%d calls, want the 400 not retried", n)
	}
	if !strings.Contains(h.log.String(), "teams connector call failed") {
		t.Error("no log line for the failed call")
	}
}

func TestTokenEndpointFailureNoPanic(t *testing.T) {
	h := newHarness(t, false, nil)
	h.conn.set(func(f *connectorFake) { f.tokenStatus = 401 })
	h.post(personal(h.conn.serviceURL(), "0x80180014"))
	if n := len(h.calls()); n != 0 {
		t.Errorf("%d calls without a token", n)
	}
	if log := h.log.String(); !strings.Contains(log, "invalid_client") {
		t.Errorf("the token failure is not logged with its cause:\n%s", log)
	}
	// The token endpoint unreachable (a transport error, which the
	// library's own client would dereference into a panic).
	h2 := newHarness(t, false, func(c *Config) { c.TokenURL = "http://127.0.0.1:1/tenant/oauth2/v2.0/token" })
	h2.post(personal(h2.conn.serviceURL(), "0x80180014"))
	if n := len(h2.calls()); n != 0 {
		t.Errorf("%d calls without a token", n)
	}
	if !strings.Contains(h2.log.String(), "connector token") {
		t.Errorf("no log line:\n%s", h2.log.String())
	}
}

func TestTokenCachedAndTenantURL(t *testing.T) {
	if got, want := TokenURL(testTenant), "https://login.microsoftonline.com/"+testTenant+"/oauth2/v2.0/token"; got != want {
		t.Errorf("TokenURL(tenant) = %s, want %s", got, want)
	}
	if got, want := TokenURL(""), "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"; got != want {
		t.Errorf("TokenURL(\"\") = %s, want %s", got, want)
	}
	h := newHarness(t, false, nil)
	for _, text := range []string{"0x80180014", "0x80180010", "0x80180026"} {
		h.post(personal(h.conn.serviceURL(), text))
	}
	if n := h.conn.tokenCount(); n != 1 {
		t.Errorf("%d token requests for 3 replies, want 1", n)
	}
	h.conn.mu.Lock()
	form := h.conn.forms[0]
	h.conn.mu.Unlock()
	if form.Get("grant_type") != "client_credentials" || form.Get("client_id") != testAppID ||
		form.Get("client_secret") != testPassword || form.Get("scope") != "https://api.botframework.com/.default" {
		t.Errorf("token request form %v", form)
	}
	// Near expiry the token is renewed.
	h.bot.conn.tokens.mu.Lock()
	h.bot.conn.tokens.renew = time.Now().Add(-time.Second)
	h.bot.conn.tokens.mu.Unlock()
	h.post(personal(h.conn.serviceURL(), "0x80180014 once more"))
	if n := h.conn.tokenCount(); n != 2 {
		t.Errorf("%d token requests after expiry, want 2", n)
	}
}

func TestShutdownWaitsForReplies(t *testing.T) {
	h := newHarness(t, false, nil)
	hold := make(chan struct{})
	h.conn.set(func(f *connectorFake) { f.hold = hold })
	raw, _ := json.Marshal(personal(h.conn.serviceURL(), "0x80180014"))
	// The activity is acknowledged before the reply is sent.
	if status := h.postRawNoWait(raw, h.sign.token(t, h.conn.serviceURL(), nil)); status != 200 {
		t.Fatalf("status %d", status)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- h.bot.Shutdown(ctx)
	}()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a reply in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(hold)
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if n := len(h.calls()); n != 1 {
		t.Errorf("%d replies, want the one in flight delivered", n)
	}
	// After shutdown nothing new is started, nor acknowledged: the Bot
	// Framework sends it again.
	again, _ := json.Marshal(personal(h.conn.serviceURL(), "0x80180010"))
	if status := h.postRawNoWait(again, h.sign.token(t, h.conn.serviceURL(), nil)); status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", status)
	}
	if n := len(h.calls()); n != 1 || !strings.Contains(h.log.String(), "teams activity not acknowledged") {
		t.Errorf("%d replies after shutdown, want none and a log line", n-1)
	}
}

func TestShutdownBoundCancelsSlowReplies(t *testing.T) {
	h := newHarness(t, false, nil)
	hold := make(chan struct{})
	h.conn.set(func(f *connectorFake) { f.hold = hold })
	defer close(hold)
	raw, _ := json.Marshal(personal(h.conn.serviceURL(), "0x80180014"))
	if status := h.postRawNoWait(raw, h.sign.token(t, h.conn.serviceURL(), nil)); status != 200 {
		t.Fatalf("status %d", status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.bot.Shutdown(ctx); err == nil || !strings.Contains(err.Error(), "in flight") {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Shutdown took %v", took)
	}
}

// postRawNoWait posts without waiting for the reply work.
func (h *harness) postRawNoWait(raw []byte, tok string) int {
	h.t.Helper()
	req, err := newRequest(h.srv.URL+Path, raw, tok)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Hardened edges (security review F12, F15, F16): activities of other Bot
// Framework channels are not answered, a dot-segment conversation id never
// reaches the connector's path, and an activity without an id is answered
// once however often it is delivered.
func TestHardenedEdges(t *testing.T) {
	h := newHarness(t, false, nil)
	web := personal(h.conn.serviceURL(), "0x80180014")
	web["channelId"] = "webchat"
	if code := h.post(web); code != http.StatusOK {
		t.Fatalf("webchat activity: %d", code)
	}
	if n := len(h.calls()); n != 0 {
		t.Errorf("a webchat activity got %d connector calls", n)
	}

	dots := personal(h.conn.serviceURL(), "0x80180014")
	dots["conversation"] = map[string]any{"id": "..", "conversationType": "personal", "tenantId": testTenant}
	h.post(dots)
	for _, c := range h.calls() {
		if strings.Contains(c.Path, "/..") || !strings.Contains(c.Path, "/v3/conversations/") {
			t.Errorf("a dot-segment id reached the connector: %s", c.Path)
		}
	}

	before := len(h.calls())
	noID := personal(h.conn.serviceURL(), "0x80180014")
	delete(noID, "id")
	h.post(noID)
	h.post(noID)
	if n := len(h.calls()) - before; n != 1 {
		t.Errorf("an activity without an id delivered twice got %d replies, want 1", n)
	}
}

// The connector client keeps a connection per reply that can be in flight.
func TestReplyClientPool(t *testing.T) {
	cl := newReplyClient(time.Second, false, 48)
	tr, ok := cl.Transport.(replyTransport)
	if !ok {
		t.Fatalf("transport %T", cl.Transport)
	}
	if got := tr.base.(*http.Transport).MaxIdleConnsPerHost; got != 48 {
		t.Errorf("MaxIdleConnsPerHost %d, want 48", got)
	}
}
