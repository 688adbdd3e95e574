// Package delivery is what every channel adapter does around a reply that
// has nothing to do with the conversation: claim a delivery so that a
// redelivered one is answered once, and retry a chat platform's API call
// with a doubling, jittered backoff that never outlives the reply's
// deadline.
package delivery

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

// ClaimTimeout bounds a claim: it runs before the platform's delivery is
// acknowledged, which the platform wants within seconds.
const ClaimTimeout = time.Second

// Claim records key for ttl and reports whether this delivery is the
// first with it. When the store fails, first is true with the error: a
// rare double answer is better than none, and the caller logs it.
func Claim(ctx context.Context, d bot.Dedupe, key string, ttl time.Duration) (first bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, ClaimTimeout)
	defer cancel()
	first, err = d.SetIfAbsent(ctx, key, ttl)
	if err != nil {
		return true, err
	}
	return first, nil
}

// MaxBackoff caps the wait between retries after transient failures.
const MaxBackoff = 8 * time.Second

// Retry retries a platform call.
type Retry struct {
	// Max bounds the retries after the first attempt.
	Max int
	// Backoff is the base wait before the first retry after a transient
	// failure; it doubles with each retry, up to MaxBackoff, and each wait
	// is drawn between half of it and all of it, so that replicas failing
	// together do not retry together.
	Backoff time.Duration
	// Sleep waits; Sleep from package bot when nil. Tests pass a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry is told every retry before its wait; nil tells nothing.
	OnRetry func(attempt int, wait time.Duration, err error)
}

// Decision is what Classify says of a failure.
type Decision struct {
	// Retry is false for a final failure.
	Retry bool
	// After is the wait the platform asked for (Retry-After); zero takes
	// the jittered backoff.
	After time.Duration
	// Now retries at once, without counting a wait: a fresh token after a
	// 401.
	Now bool
}

// Do runs f until it succeeds, classify calls its failure final, the
// retries run out, or the next wait would pass ctx's deadline. It returns
// the attempts made and f's last error.
func (r Retry) Do(ctx context.Context, classify func(err error) Decision, f func(ctx context.Context) error) (int, error) {
	sleep := r.Sleep
	if sleep == nil {
		sleep = bot.Sleep
	}
	for attempt := 1; ; attempt++ {
		err := f(ctx)
		if err == nil {
			return attempt, nil
		}
		if ctx.Err() != nil || attempt > r.Max {
			return attempt, err
		}
		d := classify(err)
		if !d.Retry {
			return attempt, err
		}
		if d.Now {
			continue
		}
		wait := d.After
		if wait <= 0 {
			wait = r.backoff(attempt)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return attempt, err
		}
		if r.OnRetry != nil {
			r.OnRetry(attempt, wait, err)
		}
		if sleep(ctx, wait) != nil {
			return attempt, err
		}
	}
}

// backoff is the jittered wait before retry n (from 1).
func (r Retry) backoff(n int) time.Duration {
	full := min(r.Backoff<<(n-1), MaxBackoff)
	if full <= 1 {
		return full
	}
	half := full / 2
	return half + rand.N(full-half+1)
}
