// Package bottest is the test kit the engine's, the adapters' and the
// command's tests share: the built-in engine built once, and a counter of
// what Sessions does around it.
package bottest

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

var builtin = sync.OnceValues(func() (*bot.Engine, error) {
	return bot.NewBuiltin(slog.New(slog.DiscardHandler))
})

// Engine returns the engine over the built-in catalog, indexed once for
// all tests of a binary: an engine is immutable and safe for concurrent use.
func Engine(t testing.TB) *bot.Engine {
	t.Helper()
	e, err := builtin()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Counter is a rate limiter and an observer that count: the turns the
// limiter was asked about and the replies observed. With Limit set, it
// refuses the turns past it. It is safe for concurrent use.
type Counter struct {
	// Limit refuses turns after the first Limit; zero allows all.
	Limit int

	mu      sync.Mutex
	allows  int
	replies []bot.Kind
	gaveUp  int
}

// Allow implements bot.RateLimiter.
func (c *Counter) Allow(context.Context, string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allows++
	return c.Limit == 0 || c.allows <= c.Limit, nil
}

// Replied implements bot.Observer.
func (c *Counter) Replied(k bot.Kind, _ time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies = append(c.replies, k)
}

// APIRetry implements bot.Observer.
func (c *Counter) APIRetry(string) {}

// DedupeHit implements bot.Observer.
func (c *Counter) DedupeHit(string) {}

// GaveUp implements bot.Observer.
func (c *Counter) GaveUp(string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gaveUp++
}

// GivenUp returns the replies given up so far.
func (c *Counter) GivenUp() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gaveUp
}

// Counts returns the limiter counts and the kinds of the replies observed
// so far.
func (c *Counter) Counts() (allows int, replies []bot.Kind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.allows, append([]bot.Kind(nil), c.replies...)
}

// LastKind returns the kind of the last reply observed; empty when none.
func (c *Counter) LastKind() bot.Kind {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.replies) == 0 {
		return ""
	}
	return c.replies[len(c.replies)-1]
}

// LogBuffer is a bytes.Buffer safe for concurrent use: a test's log.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
