package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/internal/bottest"
	"github.com/enrollbot/enrollbot/internal/tcpproxy"
	"github.com/enrollbot/enrollbot/kb"
)

// open returns a store with a key prefix of its own, removed afterwards.
func open(t testing.TB, url string, opts Options) *Store {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("enrollbot-test-%d:", rand.Uint64())
	}
	bottest.RemoveRedisKeys(t, opts.Prefix)
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("REDIS_URL is set but Redis is unreachable: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConversationRoundTrip(t *testing.T) {
	s := open(t, bottest.RedisURL(t), Options{})
	ctx := context.Background()
	if _, ok, err := s.Conversation(ctx, "c"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	want := bot.State{Lang: kb.Dutch, Choices: []string{"a", "b"}, Facts: map[string]string{"platform": "ios"}}
	if err := s.SaveConversation(ctx, "c", want, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Conversation(ctx, "c")
	if err != nil || !ok || got.Lang != want.Lang || len(got.Choices) != 2 || got.Facts["platform"] != "ios" {
		t.Fatalf("got %+v %v %v", got, ok, err)
	}
	if err := s.SaveConversation(ctx, "short", want, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(120 * time.Millisecond)
	if _, ok, _ := s.Conversation(ctx, "short"); ok {
		t.Error("conversation outlived its TTL")
	}
}

func TestDedupeIsAtomicAcrossClients(t *testing.T) {
	u := bottest.RedisURL(t)
	prefix := fmt.Sprintf("enrollbot-test-%d:", rand.Uint64())
	a := open(t, u, Options{Prefix: prefix})
	b, err := Open(context.Background(), u, Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := s.SetIfAbsent(context.Background(), "event:Ev1", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if first {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firsts != 1 {
		t.Errorf("%d clients were first, want exactly 1", firsts)
	}
}

func TestPreferencesFeedbackLimitAndUnanswered(t *testing.T) {
	s := open(t, bottest.RedisURL(t), Options{RateLimit: 3, RateWindow: time.Minute})
	ctx := context.Background()

	if err := s.SetLang(ctx, "U1", kb.Swedish); err != nil {
		t.Fatal(err)
	}
	if l, ok, err := s.Lang(ctx, "U1"); l != kb.Swedish || !ok || err != nil {
		t.Errorf("Lang = %q %v %v", l, ok, err)
	}
	if err := s.SetLang(ctx, "U1", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Lang(ctx, "U1"); ok {
		t.Error("cleared preference still there")
	}

	for _, f := range []bot.Feedback{
		{Entry: "e", Solved: true, User: "U1", Message: "m1"},
		{Entry: "e", Solved: false, User: "U2", Message: "m1"},
		{Entry: "e", Solved: false, User: "U1", Message: "m1"}, // U1 changes their mind
	} {
		if err := s.RecordFeedback(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := s.FeedbackCounts(ctx, "e"); err != nil || c.Solved != 0 || c.NotSolved != 2 {
		t.Errorf("counts %+v %v, want 0 solved, 2 not solved", c, err)
	}

	for i := 1; i <= 4; i++ {
		ok, err := s.Allow(ctx, "flooder")
		if err != nil {
			t.Fatal(err)
		}
		if want := i <= 3; ok != want {
			t.Errorf("turn %d allowed=%v, want %v", i, ok, want)
		}
	}
	if ok, _ := s.Allow(ctx, "someone-else"); !ok {
		t.Error("another user was limited")
	}

	for _, text := range []string{"Where is  the coffee?", "where is the coffee?", "printer jam"} {
		if err := s.RecordUnanswered(ctx, text); err != nil {
			t.Fatal(err)
		}
	}
	top, err := s.TopUnanswered(ctx, 5)
	if err != nil || len(top) != 2 || top[0].Text != "where is the coffee?" || top[0].Count != 2 {
		t.Errorf("top = %+v %v", top, err)
	}
}

func TestRedisGoesAwayAndComesBack(t *testing.T) {
	u, err := url.Parse(bottest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := tcpproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cut)
	via := *u
	via.Host = p.Addr()
	s := open(t, via.String(), Options{Timeout: 200 * time.Millisecond})
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}

	p.Cut()
	start := time.Now()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded with Redis gone")
	}
	if _, _, err := s.Conversation(ctx, "c"); err == nil {
		t.Fatal("Conversation succeeded with Redis gone")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("errors took %v: a gone Redis must fail fast, not hang", d)
	}

	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("store did not recover after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.SaveConversation(ctx, "c", bot.State{Entry: "x"}, time.Minute); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

// A SET NX whose reply was lost is retried by the client: the retry finds
// the key holding this call's own claim, which must still count as first.
// Simulated by a hook that runs every SET twice, answering the second.
func TestClaimSurvivesRetriedSet(t *testing.T) {
	s := open(t, bottest.RedisURL(t), Options{})
	s.rdb.AddHook(doubleSet{})
	first, err := s.SetIfAbsent(context.Background(), "lost-reply", time.Minute)
	if err != nil || !first {
		t.Fatalf("own claim read as taken: first=%v err=%v", first, err)
	}
	first, err = s.SetIfAbsent(context.Background(), "lost-reply", time.Minute)
	if err != nil || first {
		t.Errorf("a second claim of the same key: first=%v err=%v", first, err)
	}
}

// doubleSet runs SET commands twice, as a client retry after a lost reply
// does: the first run takes the key, the caller sees the second's reply.
type doubleSet struct{}

func (doubleSet) DialHook(next redis.DialHook) redis.DialHook { return next }
func (doubleSet) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "set" {
			clone := redis.NewStatusCmd(ctx, cmd.Args()...)
			_ = next(ctx, clone)
		}
		return next(ctx, cmd)
	}
}
func (doubleSet) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestTickets(t *testing.T) {
	bottest.TicketsContract(t, open(t, bottest.RedisURL(t), Options{}))
}

func TestSettings(t *testing.T) {
	bottest.SettingsContract(t, open(t, bottest.RedisURL(t), Options{}))
}

// TestStartTurnReadsWhatTheCallsRead checks StartTurn against Lang, Allow
// and Conversation on the same data (present, missing, undecodable, a part
// not asked for), and that it is one round trip.
func TestStartTurnReadsWhatTheCallsRead(t *testing.T) {
	s := open(t, bottest.RedisURL(t), Options{RateLimit: 2, RateWindow: time.Minute})
	ctx := context.Background()
	if err := s.SetLang(ctx, "U1", kb.German); err != nil {
		t.Fatal(err)
	}
	saved := bot.State{Lang: kb.German, Facts: map[string]string{"platform": "windows"}}
	if err := s.SaveConversation(ctx, "c1", saved, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.Set(ctx, s.key("conv", "broken"), "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	all := func(user, key string) bot.TurnQuery {
		return bot.TurnQuery{User: user, Key: key, Lang: true, Limit: true, Conversation: true}
	}

	r := s.StartTurn(ctx, all("U1", "c1"))
	if r.Lang != kb.German || !r.LangOK || r.LangErr != nil || !r.Allowed || r.LimitErr != nil ||
		!r.StateOK || r.StateErr != nil || r.State.Facts["platform"] != "windows" {
		t.Fatalf("saved data: %+v", r)
	}
	// A user with nothing saved, a conversation that is not there.
	r = s.StartTurn(ctx, all("U2", "none"))
	if r.LangOK || r.LangErr != nil || !r.Allowed || r.StateOK || r.StateErr != nil {
		t.Fatalf("nothing saved: %+v", r)
	}
	// An undecodable conversation fails that part only.
	r = s.StartTurn(ctx, all("U3", "broken"))
	if r.StateErr == nil || r.LimitErr != nil || !r.Allowed || r.LangErr != nil {
		t.Fatalf("broken conversation: %+v", r)
	}
	// StartTurn and Allow count the same turns: U1's second turn is the
	// last within the limit of 2, the third is not.
	if ok, err := s.Allow(ctx, "U1"); !ok || err != nil {
		t.Fatalf("second turn: %v %v", ok, err)
	}
	if r = s.StartTurn(ctx, all("U1", "c1")); r.Allowed || r.LimitErr != nil {
		t.Fatalf("third turn allowed: %+v", r)
	}
	// Parts not asked for are neither read nor counted.
	r = s.StartTurn(ctx, bot.TurnQuery{User: "U4", Key: "c1", Conversation: true})
	if r.LangOK || r.Allowed || !r.StateOK {
		t.Fatalf("conversation only: %+v", r)
	}
	if n, _ := s.rdb.Keys(ctx, s.key("rate", "U4", "*")).Result(); len(n) != 0 {
		t.Fatalf("a turn not asked to be counted was counted: %v", n)
	}

	// One round trip: the commands Redis processed for one StartTurn are
	// one MULTI/EXEC.
	var calls int
	s.rdb.AddHook(countingHook{&calls})
	s.StartTurn(ctx, all("U5", "c1"))
	if calls != 1 {
		t.Errorf("StartTurn took %d round trips, want 1", calls)
	}
}

// countingHook counts the round trips a client makes.
type countingHook struct{ n *int }

func (h countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { *h.n++; return next(ctx, cmd) }
}
func (h countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { *h.n++; return next(ctx, cmds) }
}
