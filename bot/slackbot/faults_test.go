package slackbot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot/redisstore"
	"github.com/enrollbot/enrollbot/internal/bottest"
	"github.com/enrollbot/enrollbot/internal/tcpproxy"
)

// The fault suite: deliveries under a slow Slack, a Redis that goes away,
// a replica stopped or killed mid-work. Each asserts that every
// acknowledged delivery is answered, and once.

// setDelay makes every call to the fake take d.
func (f *fakeSlack) setDelay(d time.Duration) {
	f.mu.Lock()
	f.delay = d
	f.mu.Unlock()
}

// dms sends n direct messages, one per channel, each with its own event
// id, and returns the channels.
func dms(e *env, tag string, n int) []string {
	channels := make([]string, n)
	for i := range n {
		channels[i] = fmt.Sprintf("D%s%03d", tag, i)
		e.sendEvent(fmt.Sprintf("Ev%s%03d", tag, i), messageEvent(channels[i], "im", fmt.Sprintf("U%s%03d", tag, i), "0x80180014", fmt.Sprintf("1700000400.%06d", i)), nil)
	}
	return channels
}

// answeredOnce waits until every channel has a post, then fails for any
// channel without exactly one.
func answeredOnce(t *testing.T, fs *fakeSlack, channels []string, within time.Duration) {
	t.Helper()
	count := func() map[string]int {
		n := map[string]int{}
		for _, c := range fs.byMethod("chat.postMessage") {
			n[c.Form.Get("channel")]++
		}
		return n
	}
	deadline := time.Now().Add(within)
	for {
		n := count()
		missing := 0
		for _, c := range channels {
			if n[c] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second answer would come now
	n := count()
	lost, twice := 0, 0
	for _, c := range channels {
		switch {
		case n[c] == 0:
			lost++
		case n[c] > 1:
			twice++
		}
	}
	if lost > 0 || twice > 0 {
		t.Errorf("%d deliveries: %d lost, %d answered more than once", len(channels), lost, twice)
	}
}

// redisReplica is a replica whose state and reply queue are in the Redis
// at url under prefix.
func redisReplica(t *testing.T, fs *fakeSlack, url, prefix string, claimAfter time.Duration, opts ...func(*Config)) (*env, *redisstore.Store) {
	t.Helper()
	bottest.RemoveRedisKeys(t, prefix)
	rs, err := redisstore.Open(context.Background(), url, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("REDIS_URL is set but Redis is unreachable: %v", err)
	}
	t.Cleanup(func() { rs.Close() })
	q, err := rs.Queue(context.Background(), "slack", fmt.Sprintf("replica-%d", rand.Uint64()), redisstore.QueueOptions{ClaimAfter: claimAfter})
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]func(*Config){func(c *Config) { c.Queue = q }}, opts...)
	return startEnv(t, fs, redisStores(rs), opts...), rs
}

// Every Web API call slow: replies wait for a worker, and the wait does
// not use up their time. (Before the queue, 168 of 200 were dropped.)
func TestFaultSlowSlackDelaysRepliesWithoutDroppingThem(t *testing.T) {
	fs := newFakeSlack(t)
	e := startEnv(t, fs, memStores(), func(c *Config) {
		c.MaxConcurrent = 4
		c.ReplyTimeout = time.Second
	})
	fs.setDelay(100 * time.Millisecond)
	// 40 replies of 2–3 calls each on 4 workers: the last waits ~3 s,
	// three times its own bound.
	answeredOnce(t, fs, dms(e, "S", 40), 20*time.Second)
}

// Redis unreachable when Slack first delivers: nothing is acknowledged;
// at Slack's retry, Redis is back and each event is answered once.
func TestFaultRedisDownAtFirstDeliveryUpAtRetry(t *testing.T) {
	fs := newFakeSlack(t)
	e, rs, p := proxiedReplica(t, fs, time.Minute)
	p.Cut()
	const n = 20
	channels := make([]string, n)
	events := make([][]byte, n)
	for i := range n {
		channels[i] = fmt.Sprintf("DR%03d", i)
		events[i] = eventBody(fmt.Sprintf("EvR%03d", i), messageEvent(channels[i], "im", "U0R", "0x80180014", fmt.Sprintf("1700000500.%06d", i)))
		if status, _ := e.post(PathEvents, "application/json", events[i], nil); status != http.StatusServiceUnavailable {
			t.Fatalf("event %d acknowledged (%d) while Redis was down", i, status)
		}
	}
	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	// Slack's first retry comes a minute later: Redis answers by then.
	waitRedis(t, rs)
	// Slack retries each twice more; both retries arrive.
	for retry := 1; retry <= 2; retry++ {
		for i := range n {
			h := http.Header{}
			h.Set("X-Slack-Retry-Num", fmt.Sprint(retry))
			h.Set("X-Slack-Retry-Reason", "http_error")
			if status, body := e.post(PathEvents, "application/json", events[i], h); status != http.StatusOK {
				t.Fatalf("retry %d of event %d: %d %s", retry, i, status, body)
			}
		}
	}
	answeredOnce(t, fs, channels, 10*time.Second)
}

// Redis cut while events arrive and are redelivered: every event is
// answered once, whichever delivery found Redis up.
func TestFaultRedisCutWhileEventsArrive(t *testing.T) {
	fs := newFakeSlack(t)
	e, rs, p := proxiedReplica(t, fs, time.Minute)
	const n = 40
	channels := make([]string, n)
	pending := map[int]bool{}
	for i := range n {
		channels[i] = fmt.Sprintf("DC%03d", i)
		pending[i] = true
	}
	body := func(i int) []byte {
		return eventBody(fmt.Sprintf("EvC%03d", i), messageEvent(channels[i], "im", fmt.Sprintf("U0C%d", i%5), "0x80180014", fmt.Sprintf("1700000600.%06d", i)))
	}
	for round := 0; len(pending) > 0; round++ {
		if round > 10 {
			t.Fatalf("%d events never acknowledged", len(pending))
		}
		// Every other round Redis is cut half-way through.
		cut := false
		for i := range n {
			if !pending[i] {
				continue
			}
			if round%2 == 0 && i >= n/2 && !cut {
				p.Cut()
				cut = true
			}
			h := http.Header{}
			if round > 0 {
				h.Set("X-Slack-Retry-Num", fmt.Sprint(round))
			}
			if status, _ := e.post(PathEvents, "application/json", body(i), h); status == http.StatusOK {
				delete(pending, i)
			}
		}
		if cut {
			if err := p.Restore(); err != nil {
				t.Fatal(err)
			}
			waitRedis(t, rs)
		}
	}
	answeredOnce(t, fs, channels, 10*time.Second)
}

// A replica stopped (SIGTERM) with replies in flight and posts slower than
// its grace period: what it could not finish is left in the queue, and the
// other replica answers it. (Before the queue, 54 of 150 were lost.)
func TestFaultShutdownLeavesRepliesForTheOtherReplica(t *testing.T) {
	url := bottest.RedisURL(t)
	prefix := fmt.Sprintf("enrollbot-fault-%d:", rand.Uint64())
	fs := newFakeSlack(t)
	fs.setDelay(300 * time.Millisecond)
	a, _ := redisReplica(t, fs, url, prefix, 5*time.Second, func(c *Config) { c.MaxConcurrent = 2 })
	channels := dms(a, "G", 16)
	time.Sleep(100 * time.Millisecond)
	a.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_ = a.bot.Shutdown(ctx)
	// B starts after A stopped: everything it answers, A left.
	redisReplica(t, fs, url, prefix, 5*time.Second)
	answeredOnce(t, fs, channels, 20*time.Second)
}

// A replica killed mid-work (no shutdown: its Redis connection gone, its
// work cut): another replica takes its jobs once they go unheld for
// ClaimAfter, and answers each once.
func TestFaultReplicaKilledMidWork(t *testing.T) {
	url := bottest.RedisURL(t)
	prefix := fmt.Sprintf("enrollbot-fault-%d:", rand.Uint64())
	fs := newFakeSlack(t)
	fs.setDelay(time.Second)
	a, rsA := redisReplica(t, fs, url, prefix, 2*time.Second, func(c *Config) { c.MaxConcurrent = 4 })
	channels := dms(a, "K", 12)
	time.Sleep(200 * time.Millisecond) // A has taken the jobs; its first calls are in flight
	// Killed: the connection to Redis goes first, so that nothing A does
	// from here reaches it; then its work is cut.
	rsA.Close()
	a.srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = a.bot.Shutdown(ctx)
	if n := len(fs.byMethod("chat.postMessage")); n != 0 {
		t.Fatalf("A posted %d replies before it was killed; the test needs it killed mid-work", n)
	}
	redisReplica(t, fs, url, prefix, 2*time.Second)
	answeredOnce(t, fs, channels, 30*time.Second)
}

// redisHost is the host:port of a redis:// URL.
func redisHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := neturl.Parse(raw)
	if err != nil || u.Host == "" {
		t.Fatalf("REDIS_URL %q: %v", raw, err)
	}
	return u.Host
}

// proxiedReplica is a replica whose Redis is reached through a proxy the
// test can cut, restore or make drop replies.
func proxiedReplica(t *testing.T, fs *fakeSlack, claimAfter time.Duration) (*env, *redisstore.Store, *tcpproxy.Proxy) {
	t.Helper()
	p, err := tcpproxy.Start(redisHost(t, bottest.RedisURL(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cut)
	e, rs := redisReplica(t, fs, "redis://"+p.Addr(), fmt.Sprintf("enrollbot-fault-%d:", rand.Uint64()), claimAfter)
	return e, rs, p
}

// waitRedis waits until rs answers again after a cut.
func waitRedis(t *testing.T, rs *redisstore.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rs.Ping(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("Redis did not come back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Channel chatter built to cost CPU (12 KB of 4,000-character words),
// from a few users within their rate limit, then direct messages from
// others: every direct message is answered, once. (Before the typo work
// was bounded, all 20 were lost.)
func TestFaultCostlyChatterDoesNotStarveOthers(t *testing.T) {
	fs := newFakeSlack(t)
	e := startEnv(t, fs, memStores())
	word := strings.Repeat("enrollmentfailure", 4000/len("enrollmentfailure"))
	chatter := strings.TrimSpace(strings.Repeat(word+" ", 3))
	for i := range 120 {
		ev := messageEvent("C0F00", "channel", fmt.Sprintf("UF%d", i%6), chatter, fmt.Sprintf("1700000700.%06d", i))
		e.sendEvent(fmt.Sprintf("EvChatter%03d", i), ev, nil)
	}
	answeredOnce(t, fs, dms(e, "F", 20), 20*time.Second)
	if t.Failed() {
		t.Log(methods(fs.snapshot()))
		t.Log(e.logs.String()[max(0, len(e.logs.String())-3000):])
	}
	for _, c := range fs.byMethod("chat.postMessage") {
		if c.Form.Get("channel") == "C0F00" {
			t.Fatalf("the bot answered chatter in the channel: %s", c.text())
		}
	}
}

// A tenth of Redis's replies lost on the way back (the command ran, the
// connection dropped): claims retried by the client find their own token,
// deliveries refused are redelivered, jobs whose read was lost are taken
// again; every event is answered once. (Before the claim token, 14 of 200
// were lost.)
func TestFaultRedisRepliesLost(t *testing.T) {
	fs := newFakeSlack(t)
	e, _, p := proxiedReplica(t, fs, time.Second)
	p.DropReplies(0.1)
	const n = 100
	channels := make([]string, n)
	for i := range n {
		channels[i] = fmt.Sprintf("DL%03d", i)
		body := eventBody(fmt.Sprintf("EvL%03d", i), messageEvent(channels[i], "im", fmt.Sprintf("UL%d", i%10), "0x80180014", fmt.Sprintf("1700000800.%06d", i)))
		for retry := 0; ; retry++ {
			if retry > 20 {
				t.Fatalf("event %d never acknowledged", i)
			}
			h := http.Header{}
			if retry > 0 {
				h.Set("X-Slack-Retry-Num", fmt.Sprint(retry))
			}
			if status, _ := e.post(PathEvents, "application/json", body, h); status == http.StatusOK {
				break
			}
		}
	}
	answeredOnce(t, fs, channels, 30*time.Second)
	p.DropReplies(0)
	if p.Dropped() == 0 {
		t.Error("no Redis reply was dropped: the fault did not happen")
	}
	t.Logf("%d Redis replies dropped", p.Dropped())
}
