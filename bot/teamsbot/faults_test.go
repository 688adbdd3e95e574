package teamsbot

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot/redisstore"
	"github.com/enrollbot/enrollbot/internal/bottest"
)

// redisQueue opens a store under prefix on REDIS_URL and the Teams reply
// queue in it for consumer. It skips without REDIS_URL and fails when
// REDIS_URL is set but Redis is unreachable.
func redisQueue(t *testing.T, prefix, consumer string) (*redisstore.Store, *redisstore.Queue) {
	t.Helper()
	u := bottest.RedisURL(t)
	bottest.RemoveRedisKeys(t, prefix)
	rs, err := redisstore.Open(context.Background(), u, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("REDIS_URL is set but Redis is unreachable: %v", err)
	}
	t.Cleanup(func() { rs.Close() })
	q, err := rs.Queue(context.Background(), "teams", consumer, redisstore.QueueOptions{ClaimAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return rs, q
}

// A Teams replica killed while its replies wait on a slow connector (its
// Redis connection and work cut, nothing handed back): another replica
// takes the jobs once they go unheld, and every activity is answered
// once.
func TestFaultTeamsReplicaKilledMidWork(t *testing.T) {
	prefix := fmt.Sprintf("enrollbot-teams-fault-%d:", rand.Uint64())
	rsA, qA := redisQueue(t, prefix, "A")
	a := newHarness(t, true, func(c *Config) { c.Queue = qA; c.Dedupe = rsA })
	hold := make(chan struct{})
	a.conn.mu.Lock()
	a.conn.hold = hold
	a.conn.mu.Unlock()

	const n = 6
	ids := make([]string, n)
	for i := range n {
		act := personal(a.conn.serviceURL(), "0x80180014")
		ids[i] = act["id"].(string)
		raw, _ := json.Marshal(act)
		if status := a.postRawNoWait(raw, ""); status != 200 {
			t.Fatalf("activity %d: status %d", i, status)
		}
	}
	time.Sleep(200 * time.Millisecond) // A has taken the jobs; its posts wait on the connector
	rsA.Close()
	a.srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = a.bot.Shutdown(ctx)
	if got := len(a.calls()); got != 0 {
		t.Fatalf("A posted %d replies before it was killed", got)
	}
	// A's workers have given up their posts; the connector notices each
	// closed connection a moment later. Until it has, releasing the hold
	// would let a dead replica's request through.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a.conn.mu.Lock()
		waiting := a.conn.waiting
		a.conn.mu.Unlock()
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of A's posts still reach the connector after A was killed", waiting)
		}
	}
	a.conn.mu.Lock()
	a.conn.hold = nil
	a.conn.mu.Unlock()
	close(hold)

	rsB, qB := redisQueue(t, prefix, "B")
	newHarness(t, true, func(c *Config) { c.Queue = qB; c.Dedupe = rsB })
	deadline := time.Now().Add(20 * time.Second)
	for len(a.calls()) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // a second answer would come now
	per := map[string]int{}
	for _, c := range a.calls() {
		for _, id := range ids {
			if strings.HasSuffix(c.Path, "/"+id) {
				per[id]++
			}
		}
	}
	lost, twice := 0, 0
	for _, id := range ids {
		switch {
		case per[id] == 0:
			lost++
		case per[id] > 1:
			twice++
		}
	}
	if lost > 0 || twice > 0 {
		t.Errorf("%d activities: %d lost, %d answered more than once (calls %d)", n, lost, twice, len(a.calls()))
	}
}
