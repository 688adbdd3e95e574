package bot_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

// A reply's time is counted from when it gets a slot: work queued behind
// slow work still gets its whole timeout (security review F7).
func TestRepliesTimeoutStartsAtTheSlot(t *testing.T) {
	const timeout = time.Second
	r := bot.NewReplies("test", 1, timeout, nil)
	var done atomic.Int32
	for range 2 {
		if err := r.Go(func(ctx context.Context) {
			// Each piece of work takes 60 % of the timeout: the second
			// one waits that long for the slot.
			select {
			case <-time.After(timeout * 6 / 10):
				done.Add(1)
			case <-ctx.Done():
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	r.Wait()
	if n := done.Load(); n != 2 {
		t.Errorf("%d of 2 replies finished; the queued one ran out of time", n)
	}
}
