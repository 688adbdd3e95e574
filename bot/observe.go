package bot

import "time"

// Observer is told what the bot does, for metrics. Implementations must be
// safe for concurrent use and must not block.
type Observer interface {
	// Replied reports a computed reply of kind, and how long it took.
	Replied(kind Kind, took time.Duration)
	// APIRetry reports a chat platform API call retried (429, 5xx).
	APIRetry(channel string)
	// DedupeHit reports a delivery dropped as already handled.
	DedupeHit(channel string)
	// GaveUp reports a reply given up: it could not be sent within the
	// bound on a reply's life.
	GaveUp(channel string)
}

// NopObserver observes nothing.
type NopObserver struct{}

// Replied implements Observer.
func (NopObserver) Replied(Kind, time.Duration) {}

// APIRetry implements Observer.
func (NopObserver) APIRetry(string) {}

// DedupeHit implements Observer.
func (NopObserver) DedupeHit(string) {}

// GaveUp implements Observer.
func (NopObserver) GaveUp(string) {}
