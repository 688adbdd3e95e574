package slackbot

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/redisstore"
	"github.com/enrollbot/enrollbot/locales"
)

// sharedRedis opens a store on REDIS_URL under a prefix of the test's own.
// It skips without REDIS_URL and fails when REDIS_URL is set but Redis is
// unreachable.
func sharedRedis(t *testing.T, prefix string) *redisstore.Store {
	return sharedRedisB(t, prefix)
}

// sharedRedisB is sharedRedis for tests and benchmarks alike.
func sharedRedisB(t testing.TB, prefix string) *redisstore.Store {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		t.Skip("REDIS_URL not set")
	}
	s, err := redisstore.Open(context.Background(), u, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("REDIS_URL is set but Redis is unreachable: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newReplica is one enrollbot server whose state lives in Redis, talking to
// the shared fake Slack.
func newReplica(t *testing.T, fs *fakeSlack, rs *redisstore.Store) *env {
	t.Helper()
	m, err := testMatcher()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := locales.Bundle(locales.Files())
	if err != nil {
		t.Fatal(err)
	}
	engine, err := bot.New(bot.Config{Matcher: m, Bundle: bundle, Store: rs})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, slack: fs, logs: &syncBuffer{}, sleeps: &sleepRecorder{}}
	b, err := New(Config{
		Engine: engine, Bundle: bundle, Store: rs, Preferences: rs, Dedupe: rs, Feedback: rs,
		API:           slack.New("xoxb-test", slack.OptionAPIURL(fs.apiURL())),
		SigningSecret: testSecret, BotUserID: testBotID,
		Logger:       slog.New(slog.NewTextHandler(e.logs, nil)),
		Sleep:        e.sleeps.sleep,
		ReplyTimeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
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
		_ = b.Shutdown(ctx)
	})
	return e
}

// TestReplicasShareRedis runs two servers against one real Redis, as two
// replicas behind a load balancer.
func TestReplicasShareRedis(t *testing.T) {
	prefix := fmt.Sprintf("enrollbot-replicas-%d:", rand.Uint64())
	fs := newFakeSlack(t)
	a := newReplica(t, fs, sharedRedis(t, prefix))
	b := newReplica(t, fs, sharedRedis(t, prefix))

	t.Run("an event delivered to both is answered once", func(t *testing.T) {
		ev := messageEvent("D0100", "im", "U0100", "0x80180014", "1700000300.000100")
		a.sendEvent("EvBoth", ev, nil)
		b.sendEvent("EvBoth", ev, nil)
		fs.waitFor(t, "chat.postMessage", 1)
		a.idle()
		b.idle()
		if n := len(fs.byMethod("chat.postMessage")); n != 1 {
			t.Fatalf("answered %d times, want once", n)
		}
	})

	t.Run("a conversation started on A continues on B", func(t *testing.T) {
		before := len(fs.byMethod("chat.postMessage"))
		root := "1700000300.000200"
		a.sendEvent("EvStartA", messageEvent("C0100", "channel", "U0101", "profile installation failed", root), nil)
		choices := fs.waitFor(t, "chat.postMessage", before+1)[before]
		if !hasButton(choices.blocks(t), actionPickPrefix+"2") {
			t.Fatalf("A did not offer choices: %s", choices.text())
		}
		reply := messageEvent("C0100", "channel", "U0101", "3", "1700000300.000201")
		reply["thread_ts"] = root
		b.sendEvent("EvPickOnB", reply, nil)
		post := fs.waitFor(t, "chat.postMessage", before+2)[before+1]
		if h := headerText(post.blocks(t)); !strings.Contains(h, "new MDM payload") {
			t.Errorf("B answered the number with %q, want the third choice A offered", h)
		}

		btn := findButton(t, choices.blocks(t), actionPickPrefix+"2")
		b.click("U0101", "C0100", "1700000300.000202", root, false, fs.responseURL("pickB"), btn)
		resp := fs.waitFor(t, "response_url", 1)[0]
		if h := headerText(resp.blocks(t)); !strings.Contains(h, "Connection to the server") {
			t.Errorf("button clicked on B answered %q", h)
		}
	})

	t.Run("a preference saved through A is used by B", func(t *testing.T) {
		a.sendCommand("C0100", "U0102", "lang nl", fs.responseURL("lang"))
		fs.waitFor(t, "response_url", 2)
		before := len(fs.byMethod("chat.postMessage"))
		b.sendEvent("EvPrefB", messageEvent("D0102", "im", "U0102", "0x80180014", "1700000300.000300"), nil)
		post := fs.waitFor(t, "chat.postMessage", before+1)[before]
		if h := headerText(post.blocks(t)); !strings.Contains(h, "Uw organisatie") {
			t.Errorf("B replied %q, want the Dutch title saved through A", h)
		}
	})
}
