package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/enrollbot/enrollbot/bot/queue"
	"github.com/enrollbot/enrollbot/internal/bottest"
)

// queuePair opens consumers of one queue of its own: every call with the
// same t shares the queue.
func queuePair(t *testing.T, opts QueueOptions) func(t *testing.T, consumer string) queue.Backend {
	url := bottest.RedisURL(t)
	prefixes := map[string]string{}
	return func(t *testing.T, consumer string) queue.Backend {
		prefix, ok := prefixes[t.Name()]
		if !ok {
			prefix = fmt.Sprintf("enrollbot-test-%d:", rand.Uint64())
			prefixes[t.Name()] = prefix
		}
		s := open(t, url, Options{Prefix: prefix})
		q, err := s.Queue(context.Background(), "test", consumer, opts)
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
}

func TestQueueContract(t *testing.T) {
	bottest.QueueContract(t, queuePair(t, QueueOptions{ClaimAfter: 200 * time.Millisecond}))
}

// A job whose consumer stops holding it (it died) is taken by another
// after ClaimAfter; one still held is not.
func TestQueueAbandonedJobIsTakenByAnother(t *testing.T) {
	ctx := context.Background()
	pair := queuePair(t, QueueOptions{ClaimAfter: 300 * time.Millisecond})
	a, b := pair(t, "a"), pair(t, "b")
	for _, k := range []string{"held", "abandoned"} {
		if _, err := a.Add(ctx, k, time.Minute, queue.Job{Lane: "u", Body: []byte(k), Accepted: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := a.Take(ctx, 10, time.Second)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("a took %d (%v)", len(jobs), err)
	}
	held := jobs[0].ID
	var got []queue.Job
	deadline := time.Now().Add(3 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		if err := a.Hold(ctx, []string{held}); err != nil {
			t.Fatal(err)
		}
		got, err = b.Take(ctx, 10, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || string(got[0].Body) != "abandoned" {
		t.Fatalf("b took %v, want only the abandoned job", got)
	}
}

// An add whose reply was lost is retried by the client: the retry must
// find its own claim, and the job must be queued once.
func TestQueueAddSurvivesRetriedCall(t *testing.T) {
	ctx := context.Background()
	s := open(t, bottest.RedisURL(t), Options{})
	q, err := s.Queue(ctx, "retry", "a", QueueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.rdb.AddHook(doubleEval{})
	added, err := q.Add(ctx, "lost-reply", time.Minute, queue.Job{Lane: "u", Body: []byte("x"), Accepted: time.Now()})
	if err != nil || !added {
		t.Fatalf("own claim read as taken: added=%v err=%v", added, err)
	}
	if n, _ := q.Len(ctx); n != 1 {
		t.Errorf("%d jobs queued, want 1", n)
	}
	added, err = q.Add(ctx, "lost-reply", time.Minute, queue.Job{Lane: "u", Body: []byte("x"), Accepted: time.Now()})
	if err != nil || added {
		t.Errorf("a second delivery of the same key: added=%v err=%v", added, err)
	}
}

func TestQueueFull(t *testing.T) {
	ctx := context.Background()
	s := open(t, bottest.RedisURL(t), Options{})
	q, err := s.Queue(ctx, "full", "a", QueueOptions{MaxLen: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, err := q.Add(ctx, fmt.Sprint("k", i), time.Minute, queue.Job{Lane: "u", Body: []byte("x"), Accepted: time.Now()})
		if want := i == 2; (err == queue.ErrFull) != want {
			t.Errorf("add #%d: err %v", i+1, err)
		}
	}
	// A delivery refused for a full queue was not claimed: it is taken
	// when Slack sends it again.
	jobs, _ := q.Take(ctx, 1, time.Second)
	_ = q.Done(ctx, jobs[0].ID)
	if added, err := q.Add(ctx, "k2", time.Minute, queue.Job{Lane: "u", Body: []byte("x"), Accepted: time.Now()}); err != nil || !added {
		t.Errorf("redelivery after full: added=%v err=%v", added, err)
	}
}

// doubleEval runs scripts twice, as a client retry after a lost reply
// does: the first run does the work, the caller sees the second's reply.
type doubleEval struct{}

func (doubleEval) DialHook(next redis.DialHook) redis.DialHook { return next }
func (doubleEval) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n == "evalsha" || n == "eval" {
			clone := redis.NewCmd(ctx, cmd.Args()...)
			_ = next(ctx, clone)
		}
		return next(ctx, cmd)
	}
}
func (doubleEval) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
