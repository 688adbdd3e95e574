package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/enrollbot/enrollbot/bot/queue"
)

// QueueOptions tune a Queue. Zero values take the defaults.
type QueueOptions struct {
	// ClaimAfter is how long a job may go without its consumer holding it
	// (every third of it) before another consumer takes it; default 1
	// minute.
	ClaimAfter time.Duration
	// MaxLen bounds the jobs not done; default 100,000. Add fails with
	// queue.ErrFull beyond it.
	MaxLen int
}

// Queue is a queue.Backend on a Redis stream with one consumer group:
// every replica is a consumer; a job is acknowledged and deleted when
// done, and one that its consumer stopped holding for ClaimAfter is taken
// by another (XAUTOCLAIM).
type Queue struct {
	s        *Store
	stream   string
	group    string
	consumer string
	opts     QueueOptions

	mu        sync.Mutex
	lastClaim time.Time
}

var _ queue.Backend = (*Queue)(nil)

// addScript claims the delivery and adds its job in one step: a delivery
// is never claimed without its job, and a client retry of the same call
// (same token) is recognised as ours rather than as taken.
var addScript = redis.NewScript(`
local held = redis.call('GET', KEYS[1])
if held then
  if held == ARGV[1] then return 1 end
  return 0
end
if tonumber(ARGV[6]) > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[6]) then
  return -1
end
redis.call('XADD', KEYS[2], '*', 'lane', ARGV[3], 'body', ARGV[4], 'at', ARGV[5])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// doneScript acknowledges and deletes a job in one command: one round trip,
// and nothing left half done.
var doneScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
`)

// Queue returns the backend of the queue called name (slack, teams) for
// consumer, a name unique to this process. It creates the stream and its
// group when they do not exist.
func (s *Store) Queue(ctx context.Context, name, consumer string, opts QueueOptions) (*Queue, error) {
	if consumer == "" {
		return nil, errors.New("redis queue: a consumer name is required")
	}
	if opts.ClaimAfter <= 0 {
		opts.ClaimAfter = time.Minute
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = 100_000
	}
	q := &Queue{s: s, stream: s.key("queue", name), group: "enrollbot", consumer: consumer, opts: opts}
	cctx, cancel := s.call(ctx)
	defer cancel()
	err := s.rdb.XGroupCreateMkStream(cctx, q.stream, q.group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return nil, fmt.Errorf("redis queue %s: create group: %w", name, err)
	}
	return q, nil
}

// Add implements queue.Backend.
func (q *Queue) Add(ctx context.Context, key string, ttl time.Duration, j queue.Job) (bool, error) {
	ctx, cancel := q.s.call(ctx)
	defer cancel()
	var b [12]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	claim := q.s.key("seen", key)
	if key == "" {
		// Nothing to claim: a key of its own, which nothing repeats.
		claim = q.s.key("seen", "job", token)
	}
	at := strconv.FormatInt(j.Accepted.UnixMilli(), 10)
	n, err := addScript.Run(ctx, q.s.rdb, []string{claim, q.stream},
		token, ttl.Milliseconds(), j.Lane, j.Body, at, q.opts.MaxLen).Int()
	if err != nil {
		return false, fmt.Errorf("redis queue add: %w", err)
	}
	switch n {
	case -1:
		return false, queue.ErrFull
	case 0:
		return false, nil
	}
	return true, nil
}

// Take implements queue.Backend: jobs abandoned by another consumer first
// (looked for at most once a second), then new ones.
func (q *Queue) Take(ctx context.Context, max int, wait time.Duration) ([]queue.Job, error) {
	jobs, err := q.reclaim(ctx, max)
	if err != nil || len(jobs) > 0 {
		return jobs, err
	}
	cctx, cancel := context.WithTimeout(ctx, wait+q.s.opts.Timeout)
	defer cancel()
	args := &redis.XReadGroupArgs{Group: q.group, Consumer: q.consumer, Streams: []string{q.stream, ">"},
		Count: int64(max), Block: wait}
	if wait <= 0 {
		args.Block = -1
	}
	res, err := q.s.rdb.XReadGroup(cctx, args).Result()
	if errors.Is(err, redis.Nil) || (err != nil && ctx.Err() == nil && cctx.Err() != nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis queue read: %w", err)
	}
	for _, st := range res {
		jobs = append(jobs, q.jobs(ctx, st.Messages)...)
	}
	return jobs, nil
}

// reclaim takes jobs whose consumer has not held them for ClaimAfter.
func (q *Queue) reclaim(ctx context.Context, max int) ([]queue.Job, error) {
	q.mu.Lock()
	if time.Since(q.lastClaim) < time.Second {
		q.mu.Unlock()
		return nil, nil
	}
	q.lastClaim = time.Now()
	q.mu.Unlock()
	cctx, cancel := q.s.call(ctx)
	defer cancel()
	msgs, _, err := q.s.rdb.XAutoClaim(cctx, &redis.XAutoClaimArgs{Stream: q.stream, Group: q.group,
		Consumer: q.consumer, MinIdle: q.opts.ClaimAfter, Start: "0-0", Count: int64(max)}).Result()
	if err != nil {
		return nil, fmt.Errorf("redis queue reclaim: %w", err)
	}
	return q.jobs(ctx, msgs), nil
}

// jobs decodes stream entries; an entry deleted while pending is
// acknowledged and skipped.
func (q *Queue) jobs(ctx context.Context, msgs []redis.XMessage) []queue.Job {
	jobs := make([]queue.Job, 0, len(msgs))
	for _, m := range msgs {
		lane, _ := m.Values["lane"].(string)
		body, ok := m.Values["body"].(string)
		if !ok {
			_ = q.Done(ctx, m.ID)
			continue
		}
		j := queue.Job{ID: m.ID, Lane: lane, Body: []byte(body)}
		if at, _ := m.Values["at"].(string); at != "" {
			if ms, err := strconv.ParseInt(at, 10, 64); err == nil {
				j.Accepted = time.UnixMilli(ms)
			}
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// Hold implements queue.Backend: claiming its own entries again resets
// their idle time.
func (q *Queue) Hold(ctx context.Context, ids []string) error {
	ctx, cancel := q.s.call(ctx)
	defer cancel()
	err := q.s.rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: q.stream, Group: q.group,
		Consumer: q.consumer, MinIdle: 0, Messages: ids}).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redis queue hold: %w", err)
	}
	return nil
}

// HoldEvery implements queue.Backend: three times per ClaimAfter, so that
// a hold late by a beat loses nothing.
func (q *Queue) HoldEvery() time.Duration { return q.opts.ClaimAfter / 3 }

// Release implements queue.Backend: the entries are marked idle for longer
// than ClaimAfter, so that the next consumer to look takes them.
func (q *Queue) Release(ctx context.Context, ids []string) error {
	ctx, cancel := q.s.call(ctx)
	defer cancel()
	args := []any{"XCLAIM", q.stream, q.group, q.consumer, 0}
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, "IDLE", (q.opts.ClaimAfter + time.Second).Milliseconds(), "JUSTID")
	if err := q.s.rdb.Do(ctx, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redis queue release: %w", err)
	}
	return nil
}

// Done implements queue.Backend.
func (q *Queue) Done(ctx context.Context, id string) error {
	ctx, cancel := q.s.call(ctx)
	defer cancel()
	if err := doneScript.Run(ctx, q.s.rdb, []string{q.stream}, q.group, id).Err(); err != nil {
		return fmt.Errorf("redis queue done %s: %w", id, err)
	}
	return nil
}

// Len implements queue.Backend.
func (q *Queue) Len(ctx context.Context) (int, error) {
	ctx, cancel := q.s.call(ctx)
	defer cancel()
	n, err := q.s.rdb.XLen(ctx, q.stream).Result()
	if err != nil {
		return 0, fmt.Errorf("redis queue length: %w", err)
	}
	return int(n), nil
}

// Durable implements queue.Backend.
func (q *Queue) Durable() bool { return true }
