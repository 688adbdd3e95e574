package slackbot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot/redisstore"
	"github.com/enrollbot/enrollbot/internal/bottest"
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
	u := bottest.RedisURL(t)
	bottest.RemoveRedisKeys(t, prefix)
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
	return startEnv(t, fs, redisStores(rs))
}

// redisStores keeps everything in rs.
func redisStores(rs *redisstore.Store) stores {
	return stores{conv: rs, prefs: rs, fb: rs, unans: rs, dedupe: rs}
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

	t.Run("a verdict given through B on A's answer is counted in Redis", func(t *testing.T) {
		before := len(fs.byMethod("chat.postMessage"))
		root := "1700000300.000400"
		a.sendEvent("EvVerdictA", messageEvent("C0100", "channel", "U0103", "0x80180026", root), nil)
		answer := fs.waitFor(t, "chat.postMessage", before+1)[before]
		b.click("U0103", "C0100", answer.TS, root, false, fs.responseURL("verdictB"), findButton(t, answer.blocks(t), actionNotSolved))
		next := fs.waitFor(t, "chat.postMessage", before+2)[before+1]
		if next.Form.Get("thread_ts") != root || !strings.Contains(next.all(), "next most likely cause") {
			t.Errorf("Not solved on B: %s", next.all())
		}
		b.idle()
		counts, err := b.stores.fb.FeedbackCounts(context.Background(), "something-went-wrong")
		if err != nil || counts.NotSolved != 1 {
			t.Errorf("feedback counts in Redis %+v (%v)", counts, err)
		}
	})
}
