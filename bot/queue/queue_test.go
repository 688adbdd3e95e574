package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/queue"
)

// recorder is a handler that records the bodies it worked on, in order.
type recorder struct {
	mu   sync.Mutex
	done []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.done = append(r.done, s)
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.done)
}

func add(t *testing.T, q *queue.Queue, key, lane, body string) {
	t.Helper()
	added, err := q.Add(context.Background(), key, time.Minute, lane, []byte(body))
	if err != nil || !added {
		t.Fatalf("add %s: added=%v err=%v", key, added, err)
	}
}

func shutdown(t *testing.T, q *queue.Queue) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Shutdown(ctx)
	})
}

// One user's burst does not hold up another user: lanes take turns.
func TestLanesTakeTurns(t *testing.T) {
	gate := make(chan struct{})
	rec := &recorder{}
	q := queue.New(queue.NewMemory(bot.NewMemoryDedupe(), 0), func(ctx context.Context, j queue.Job) {
		if string(j.Body) == "first" {
			<-gate
		}
		rec.add(string(j.Body))
	}, queue.Config{Workers: 1, Buffer: 4})
	shutdown(t, q)
	add(t, q, "first", "flood", "first")
	for i := range 30 {
		add(t, q, fmt.Sprint("flood", i), "flood", fmt.Sprint("flood", i))
	}
	add(t, q, "other", "other", "other")
	time.Sleep(50 * time.Millisecond) // let the reader take them all
	close(gate)
	if err := q.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.list()
	if len(got) != 32 {
		t.Fatalf("worked %d jobs, want 32", len(got))
	}
	// At most the jobs taken before it arrived (the worker's and the
	// buffer's) come first, not the whole flood.
	if i := slices.Index(got, "other"); i < 0 || i > 1+4+1 {
		t.Errorf("the other user's job came %d of 32 (%v), want within the buffer's reach", i+1, got[:8])
	}
}

// Waiting for a worker does not use up a job's work time.
func TestWaitingDoesNotEatTheDeadline(t *testing.T) {
	var left []time.Duration
	var mu sync.Mutex
	q := queue.New(queue.NewMemory(bot.NewMemoryDedupe(), 0), func(ctx context.Context, j queue.Job) {
		d, _ := ctx.Deadline()
		mu.Lock()
		left = append(left, time.Until(d))
		mu.Unlock()
		<-ctx.Done() // a platform slower than the whole bound
	}, queue.Config{Workers: 1, Work: 200 * time.Millisecond})
	shutdown(t, q)
	for i := range 3 {
		add(t, q, fmt.Sprint("k", i), fmt.Sprint("u", i), "x")
	}
	if err := q.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(left) != 3 {
		t.Fatalf("%d jobs worked, want 3", len(left))
	}
	for i, d := range left {
		if d < 150*time.Millisecond {
			t.Errorf("job %d started with %s of its 200ms left", i+1, d)
		}
	}
}

// A job that could not be worked within GiveUp of its acceptance is
// dropped and counted, not worked late.
func TestOldJobsAreGivenUp(t *testing.T) {
	m := queue.NewMemory(bot.NewMemoryDedupe(), 0)
	ctx := context.Background()
	if _, err := m.Add(ctx, "old", time.Minute, queue.Job{Lane: "u", Body: []byte("old"), Accepted: time.Now().Add(-11 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, "new", time.Minute, queue.Job{Lane: "u", Body: []byte("new"), Accepted: time.Now()}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	var gaveUp atomic.Int32
	q := queue.New(m, func(ctx context.Context, j queue.Job) { rec.add(string(j.Body)) },
		queue.Config{GiveUp: 10 * time.Minute, OnGiveUp: func() { gaveUp.Add(1) }})
	shutdown(t, q)
	if err := q.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.list(); !slices.Equal(got, []string{"new"}) || gaveUp.Load() != 1 {
		t.Errorf("worked %v, gave up %d; want [new] and 1", got, gaveUp.Load())
	}
}

// Without a durable backend, shutdown works off everything accepted
// within its bound, and refuses new work.
func TestShutdownDrainsMemory(t *testing.T) {
	rec := &recorder{}
	q := queue.New(queue.NewMemory(bot.NewMemoryDedupe(), 0), func(ctx context.Context, j queue.Job) {
		time.Sleep(5 * time.Millisecond)
		rec.add(string(j.Body))
	}, queue.Config{Workers: 2, Buffer: 1})
	for i := range 20 {
		add(t, q, fmt.Sprint("k", i), "u", "x")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.list()); n != 20 {
		t.Errorf("%d of 20 accepted jobs worked by shutdown", n)
	}
	if _, err := q.Add(context.Background(), "late", time.Minute, "u", nil); !errors.Is(err, queue.ErrStopped) {
		t.Errorf("add after shutdown: %v, want ErrStopped", err)
	}
}

// durableMemory plays a durable backend: its jobs outlive the Queue.
type durableMemory struct{ *queue.Memory }

func (durableMemory) Durable() bool { return true }

// With a durable backend, shutdown past its bound cuts the work in flight
// and leaves every job not done for the next consumer, which works each
// once.
func TestShutdownLeavesDurableJobsForTheNext(t *testing.T) {
	b := durableMemory{queue.NewMemory(bot.NewMemoryDedupe(), 0)}
	started := make(chan struct{}, 10)
	first := queue.New(b, func(ctx context.Context, j queue.Job) {
		started <- struct{}{}
		<-ctx.Done()
	}, queue.Config{Workers: 1})
	for i := range 5 {
		add(t, first, fmt.Sprint("k", i), fmt.Sprint("u", i), fmt.Sprint(i))
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := first.Shutdown(ctx); err == nil {
		t.Error("shutdown that cut work short reported no error")
	}
	if n, _ := b.Len(context.Background()); n != 5 {
		t.Fatalf("%d jobs left after shutdown, want all 5", n)
	}
	rec := &recorder{}
	next := queue.New(b, func(ctx context.Context, j queue.Job) { rec.add(string(j.Body)) }, queue.Config{Workers: 2})
	shutdown(t, next)
	if err := next.Idle(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.list()
	slices.Sort(got)
	if !slices.Equal(got, []string{"0", "1", "2", "3", "4"}) {
		t.Errorf("the next consumer worked %v, want each of 0..4 once", got)
	}
}
