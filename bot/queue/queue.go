// Package queue keeps the work behind acknowledged chat deliveries until
// its reply went out.
//
// A channel adapter acknowledges a delivery only after Add recorded its job
// under the delivery's claim key (a redelivery finds the key taken). Workers
// take the jobs lane by lane in turn (a lane is a user), so that one user's
// burst does not hold up everyone else. A job leaves the backend (Done) only
// after its work ran: with a durable backend (Redis), a job whose replica
// died or stopped is taken by another. Time spent waiting in the queue does
// not count against a job's work time; a job that could not be worked within
// GiveUp of its acceptance is dropped, logged at Warn and counted.
package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

// Job is one accepted delivery waiting for its reply.
type Job struct {
	// ID is given by the backend when the job is added.
	ID string
	// Lane is whose work the job is (a user): lanes take turns.
	Lane string
	// Body is the adapter's own encoding of what to do.
	Body []byte
	// Accepted is when the delivery was accepted.
	Accepted time.Time
}

// Backend stores the jobs of one queue, for one consumer.
type Backend interface {
	// Add records j unless key was claimed within ttl; added is false for
	// such a repeat. The claim and the job are recorded together: a
	// delivery is never claimed without its job, nor queued twice.
	Add(ctx context.Context, key string, ttl time.Duration, j Job) (added bool, err error)
	// Take returns up to max jobs no consumer holds (new ones, or ones
	// whose consumer stopped holding them), waiting up to wait for one.
	Take(ctx context.Context, max int, wait time.Duration) ([]Job, error)
	// Hold tells the backend that this consumer still works on ids.
	Hold(ctx context.Context, ids []string) error
	// HoldEvery is how often Hold must be called for this consumer's jobs
	// to stay its own; zero when no other consumer can take them.
	HoldEvery() time.Duration
	// Release gives ids back to be taken by another consumer at once.
	Release(ctx context.Context, ids []string) error
	// Done removes a job whose work ran.
	Done(ctx context.Context, id string) error
	// Len counts the jobs not done, held by any consumer or none.
	Len(ctx context.Context) (int, error)
	// Durable reports whether jobs outlive the process.
	Durable() bool
}

// ErrFull is returned by Add when the backend holds as many jobs as it
// may: the delivery is not acknowledged, and the platform sends it again.
var ErrFull = errors.New("queue: full")

// ErrStopped is returned by Add after Shutdown began.
var ErrStopped = errors.New("queue: shutting down")

// Defaults of Config's optional fields.
const (
	DefaultWorkers = 32
	DefaultWork    = 2 * time.Minute
	DefaultGiveUp  = 10 * time.Minute
)

// Config sets up a Queue.
type Config struct {
	// Name names the queue in logs (slack, teams).
	Name string
	// Workers bounds the jobs worked on at once.
	Workers int
	// Buffer bounds the jobs taken from the backend and not yet started;
	// 4 × Workers when zero.
	Buffer int
	// Work bounds one job's work, from when a worker starts it.
	Work time.Duration
	// GiveUp bounds a job's life from its acceptance: a job older is
	// dropped, and one being worked on is cut at that age.
	GiveUp time.Duration
	// Logger receives dropped and lost jobs; discarded when nil.
	Logger *slog.Logger
	// OnGiveUp is told every job dropped for its age; nil tells nothing.
	OnGiveUp func()
}

// Handler does a job's work. ctx ends at the job's deadline or when
// Shutdown gives up waiting.
type Handler func(ctx context.Context, j Job)

// Queue runs the jobs of one backend on a pool of workers. It is safe for
// concurrent use.
type Queue struct {
	b      Backend
	handle Handler
	cfg    Config
	log    *slog.Logger

	// root ends the work in flight when Shutdown gives up waiting.
	root       context.Context
	cancelRoot context.CancelFunc
	// taking ends the reader's wait for new jobs.
	taking     context.Context
	stopTaking context.CancelFunc

	mu    sync.Mutex
	cond  *sync.Cond
	lanes *lanes // taken, not started
	busy  map[string]bool
	// local holds the ids of the jobs taken and not finished: a backend
	// may hand one out again (its hold lapsed), which must not run twice.
	local    map[string]bool
	stopping bool
	readerUp bool
	room     chan struct{}
	// wg counts the reader and the workers.
	wg sync.WaitGroup
	// holding is closed when the holder stopped.
	holding chan struct{}
}

// New starts a Queue over b whose workers run handle.
func New(b Backend, handle Handler, cfg Config) *Queue {
	cfg.Workers = cmp.Or(cfg.Workers, DefaultWorkers)
	cfg.Buffer = cmp.Or(cfg.Buffer, 4*cfg.Workers)
	cfg.Work = cmp.Or(cfg.Work, DefaultWork)
	cfg.GiveUp = cmp.Or(cfg.GiveUp, DefaultGiveUp)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{b: b, handle: handle, cfg: cfg, log: log.With("queue", cfg.Name),
		lanes: newLanes(), busy: map[string]bool{}, local: map[string]bool{}, room: make(chan struct{}, 1), readerUp: true}
	q.cond = sync.NewCond(&q.mu)
	q.root, q.cancelRoot = context.WithCancel(context.Background())
	q.taking, q.stopTaking = context.WithCancel(q.root)
	q.wg.Go(q.read)
	for range cfg.Workers {
		q.wg.Go(q.work)
	}
	q.holding = make(chan struct{})
	if b.HoldEvery() > 0 {
		go q.hold()
	} else {
		close(q.holding)
	}
	return q
}

// Add records a job for lane with body under the delivery's claim key;
// added is false when the key was claimed before (a redelivery). A nil
// error means the job will be worked on: acknowledge the delivery then,
// and only then.
func (q *Queue) Add(ctx context.Context, key string, ttl time.Duration, lane string, body []byte) (added bool, err error) {
	q.mu.Lock()
	stopping := q.stopping
	q.mu.Unlock()
	if stopping {
		return false, ErrStopped
	}
	return q.b.Add(ctx, key, ttl, Job{Lane: lane, Body: body, Accepted: time.Now()})
}

// read moves jobs from the backend to the lanes while there is room.
func (q *Queue) read() {
	defer func() {
		q.mu.Lock()
		q.readerUp = false
		q.cond.Broadcast()
		q.mu.Unlock()
	}()
	failures := 0
	for {
		q.mu.Lock()
		free := q.cfg.Buffer + q.cfg.Workers - q.lanes.len() - len(q.busy)
		stopping := q.stopping
		q.mu.Unlock()
		// Stopping, a durable backend keeps its jobs for the next consumer;
		// an in-process one is drained as far as the grace period allows.
		if q.root.Err() != nil || (stopping && q.b.Durable()) {
			return
		}
		if free <= 0 {
			select {
			case <-q.room:
			case <-q.root.Done():
			}
			continue
		}
		ctx, wait := q.taking, time.Second
		if stopping {
			ctx, wait = q.root, 0
		}
		jobs, err := q.b.Take(ctx, free, wait)
		if err != nil {
			if q.root.Err() != nil {
				return
			}
			if ctx.Err() != nil {
				continue
			}
			failures++
			q.log.Warn("queue read failed", "err", err, "failures", failures)
			_ = bot.Sleep(q.taking, min(time.Duration(failures)*200*time.Millisecond, 5*time.Second))
			continue
		}
		failures = 0
		if stopping && len(jobs) == 0 {
			return
		}
		q.push(jobs)
	}
}

func (q *Queue) push(jobs []Job) {
	if len(jobs) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		if q.local[j.ID] {
			continue
		}
		q.local[j.ID] = true
		q.lanes.push(j, false)
	}
	q.cond.Broadcast()
}

// next takes the next job, lanes in turn; ok is false when the worker
// should stop.
func (q *Queue) next() (Job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.root.Err() != nil {
			return Job{}, false
		}
		if j, ok := q.lanes.pop(); ok {
			q.busy[j.ID] = true
			return j, true
		}
		if q.stopping && !q.readerUp {
			return Job{}, false
		}
		q.cond.Wait()
	}
}

func (q *Queue) work() {
	for {
		j, ok := q.next()
		if !ok {
			return
		}
		q.run(j)
		q.mu.Lock()
		delete(q.busy, j.ID)
		delete(q.local, j.ID)
		q.cond.Broadcast()
		q.mu.Unlock()
		select {
		case q.room <- struct{}{}:
		default:
		}
	}
}

// run works one job and removes it, unless Shutdown cut it short.
func (q *Queue) run(j Job) {
	now := time.Now()
	end := now.Add(q.cfg.Work)
	if !j.Accepted.IsZero() {
		if age := now.Sub(j.Accepted); age >= q.cfg.GiveUp {
			q.log.Warn("reply given up: the job waited too long", "job", j.ID, "lane", j.Lane, "age", age.Round(time.Millisecond))
			if q.cfg.OnGiveUp != nil {
				q.cfg.OnGiveUp()
			}
			q.done(j)
			return
		}
		end = minTime(end, j.Accepted.Add(q.cfg.GiveUp))
	}
	ctx, cancel := context.WithDeadline(q.root, end)
	q.handle(ctx, j)
	cancel()
	if q.root.Err() != nil {
		if q.b.Durable() {
			q.release([]string{j.ID})
		} else {
			q.log.Warn("reply lost at shutdown: cut short, and the queue is not durable", "job", j.ID, "lane", j.Lane)
		}
		return
	}
	q.done(j)
}

// done removes a job whose work ran. It tries a few times: a job left in
// a durable backend is worked again (its reply shown twice).
func (q *Queue) done(j Job) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.root), 10*time.Second)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		err := q.b.Done(ctx, j.ID)
		if err == nil {
			return
		}
		if bot.Sleep(ctx, wait) != nil {
			q.log.Warn("queue: job not removed after its work; it may be worked again", "job", j.ID, "err", err)
			return
		}
		wait = min(2*wait, time.Second)
	}
}

func (q *Queue) release(ids []string) {
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(q.root), 5*time.Second)
	defer cancel()
	if err := q.b.Release(ctx, ids); err != nil {
		q.log.Warn("queue: jobs not released at shutdown; another consumer takes them after the claim timeout", "jobs", len(ids), "err", err)
	}
}

// hold tells a durable backend, every HoldEvery, which jobs this consumer
// still has, so that no other consumer takes them for abandoned.
func (q *Queue) hold() {
	defer close(q.holding)
	every := q.b.HoldEvery()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-q.root.Done():
			return
		case <-t.C:
		}
		ids := q.held()
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(q.root, every)
		if err := q.b.Hold(ctx, ids); err != nil && q.root.Err() == nil {
			q.log.Warn("queue: could not hold jobs", "jobs", len(ids), "err", err)
		}
		cancel()
	}
}

// held returns the ids of the jobs taken and not finished.
func (q *Queue) held() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Collect(maps.Keys(q.local))
}

// Idle waits until no job is waiting or in flight, in the backend (every
// consumer's) and here, or ctx ends. Tests use it.
func (q *Queue) Idle(ctx context.Context) error {
	for {
		q.mu.Lock()
		quiet := q.lanes.len() == 0 && len(q.busy) == 0
		q.mu.Unlock()
		if quiet {
			n, err := q.b.Len(ctx)
			if err == nil && n == 0 {
				return nil
			}
		}
		if err := bot.Sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
}

// Shutdown stops taking new jobs and works on until every job taken is
// done (with an in-process backend: every job added) or ctx ends; then it
// cuts the work in flight short. A durable backend keeps the jobs not done,
// for the next consumer; with an in-process one they are lost, logged at
// Warn. It returns ctx's error when work was cut short or left.
func (q *Queue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	if q.stopping {
		q.mu.Unlock()
		return nil
	}
	q.stopping = true
	q.cond.Broadcast()
	q.mu.Unlock()
	// The reader's wait ends; stopping, it reads on without waiting.
	q.stopTaking()
	select {
	case q.room <- struct{}{}:
	default:
	}
	done := make(chan struct{})
	go func() {
		q.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("%s: replies still in flight at shutdown: %w", q.cfg.Name, ctx.Err())
	}
	q.cancelRoot()
	q.mu.Lock()
	q.cond.Broadcast()
	q.mu.Unlock()
	<-done
	<-q.holding
	if q.b.Durable() {
		if left := q.held(); len(left) > 0 {
			q.release(left)
			q.log.Info("queue: jobs left for the next consumer", "jobs", len(left))
		}
		return err
	}
	lenCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if n, _ := q.b.Len(lenCtx); n > 0 {
		q.log.Warn("replies lost at shutdown: the queue is not durable", "jobs", n)
		return cmp.Or(err, fmt.Errorf("%s: %d replies left at shutdown", q.cfg.Name, n))
	}
	return err
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
