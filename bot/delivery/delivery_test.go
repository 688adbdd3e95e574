package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

type failingDedupe struct{}

func (failingDedupe) SetIfAbsent(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("down")
}

func TestClaim(t *testing.T) {
	ctx := context.Background()
	d := bot.NewMemoryDedupe()
	if first, err := Claim(ctx, d, "k", time.Minute); !first || err != nil {
		t.Fatalf("first claim: %v %v", first, err)
	}
	if first, _ := Claim(ctx, d, "k", time.Minute); first {
		t.Error("second claim of the same key was first")
	}
	if first, err := Claim(ctx, failingDedupe{}, "k", time.Minute); !first || err == nil {
		t.Errorf("a failing store must let the delivery through and say why: %v %v", first, err)
	}
}

func TestRetry(t *testing.T) {
	errTransient, errFinal := errors.New("503"), errors.New("400")
	classify := func(err error) Decision { return Decision{Retry: errors.Is(err, errTransient)} }
	var waits []time.Duration
	r := Retry{Max: 3, Backoff: 100 * time.Millisecond,
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}

	calls := 0
	n, err := r.Do(context.Background(), classify, func(context.Context) error {
		calls++
		if calls < 3 {
			return errTransient
		}
		return nil
	})
	if err != nil || n != 3 || len(waits) != 2 {
		t.Fatalf("attempts %d, err %v, waits %v", n, err, waits)
	}
	// Jittered: between half and all of the doubling backoff.
	if waits[0] < 50*time.Millisecond || waits[0] > 100*time.Millisecond || waits[1] < 100*time.Millisecond || waits[1] > 200*time.Millisecond {
		t.Errorf("waits %v outside the jittered backoff", waits)
	}

	waits = nil
	n, err = r.Do(context.Background(), classify, func(context.Context) error { return errFinal })
	if !errors.Is(err, errFinal) || n != 1 || len(waits) != 0 {
		t.Errorf("final error: attempts %d, err %v, waits %v", n, err, waits)
	}

	n, _ = r.Do(context.Background(), classify, func(context.Context) error { return errTransient })
	if n != 4 {
		t.Errorf("retries not bounded: %d attempts, want 1 + 3", n)
	}

	// A wait that would pass the deadline is not started.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	waits = nil
	n, _ = r.Do(ctx, func(error) Decision { return Decision{Retry: true, After: time.Second} }, func(context.Context) error { return errTransient })
	if n != 1 || len(waits) != 0 {
		t.Errorf("deadline: %d attempts, waits %v", n, waits)
	}

	// Now retries without a wait.
	waits = nil
	first := true
	_, err = r.Do(context.Background(), func(error) Decision { return Decision{Retry: true, Now: true} }, func(context.Context) error {
		if first {
			first = false
			return errTransient
		}
		return nil
	})
	if err != nil || len(waits) != 0 {
		t.Errorf("now: err %v, waits %v", err, waits)
	}
}
