package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrShuttingDown is returned for work offered after Shutdown began.
var ErrShuttingDown = errors.New("bot: shutting down")

// Replies runs the work behind a chat delivery after it was acknowledged
// (chat platforms want the acknowledgement within seconds): at most a bound
// of replies at once, each bounded in time, all drained on shutdown. Every
// channel adapter uses one.
type Replies struct {
	name    string
	timeout time.Duration
	log     *slog.Logger
	root    context.Context
	cancel  context.CancelFunc
	sem     chan struct{}

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// NewReplies returns a Replies named for its logs (slack, teams) that runs
// at most maxConcurrent replies at once, each for at most timeout.
func NewReplies(name string, maxConcurrent int, timeout time.Duration, log *slog.Logger) *Replies {
	root, cancel := context.WithCancel(context.Background())
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Replies{name: name, timeout: timeout, log: log, root: root, cancel: cancel,
		sem: make(chan struct{}, maxConcurrent)}
}

// Go runs work in a goroutine once one of the slots is free. Its context
// ends after the timeout, counted from when it got its slot (a slow
// platform API that keeps the slots busy delays replies; it must not use
// up their time), or when Shutdown gives up waiting. Work that finds no
// free slot within the timeout is dropped and logged.
func (r *Replies) Go(work func(ctx context.Context)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrShuttingDown
	}
	r.wg.Go(func() {
		wait, cancelWait := context.WithTimeout(r.root, r.timeout)
		select {
		case r.sem <- struct{}{}:
			cancelWait()
			defer func() { <-r.sem }()
		case <-wait.Done():
			cancelWait()
			r.log.Warn(r.name+" reply dropped: too many in flight", "err", wait.Err())
			return
		}
		ctx, cancel := context.WithTimeout(r.root, r.timeout)
		defer cancel()
		work(ctx)
	})
	return nil
}

// Wait blocks until the work started so far is done.
func (r *Replies) Wait() { r.wg.Wait() }

// Shutdown stops taking new work and waits for the work in flight until
// ctx ends; then it cancels it and returns ctx's error. Stop accepting
// deliveries first, so that none is acknowledged and then dropped.
func (r *Replies) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		<-done
		return fmt.Errorf("%s: replies still in flight at shutdown: %w", r.name, ctx.Err())
	}
}

// Sleep waits for d or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
