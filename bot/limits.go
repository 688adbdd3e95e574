package bot

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// RateLimiter bounds how many turns one user gets per window, so that one
// user cannot flood the bot. Implementations must be safe for concurrent
// use; across replicas they must share their counts.
type RateLimiter interface {
	// Allow counts one turn of user and reports whether it is within limit.
	Allow(ctx context.Context, user string) (bool, error)
}

// UnansweredLog remembers what users asked that the bot could not place,
// so the catalog's keepers see what to add next.
type UnansweredLog interface {
	// RecordUnanswered counts one more occurrence of text.
	RecordUnanswered(ctx context.Context, text string) error
	// TopUnanswered returns the n most frequent texts, most frequent first.
	TopUnanswered(ctx context.Context, n int) ([]Unanswered, error)
}

// Unanswered is a text that got a clarify reply, with how often it did.
type Unanswered struct {
	Text  string
	Count int
}

// MaxUnansweredRunes bounds a recorded text: the start of a paste is what
// tells it apart, and the log must not grow with what users paste.
const MaxUnansweredRunes = 200

// NormalizeUnanswered is the form texts are counted under: white space
// folded, lower-cased, bounded.
func NormalizeUnanswered(text string) string {
	s := strings.ToLower(strings.Join(strings.Fields(text), " "))
	if utf8.RuneCountInString(s) > MaxUnansweredRunes {
		s = string([]rune(s)[:MaxUnansweredRunes])
	}
	return s
}

// MemoryLimiter is a fixed-window RateLimiter in process memory.
type MemoryLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	counts map[string]int
	start  time.Time
}

// NewMemoryLimiter allows limit turns per user per window.
func NewMemoryLimiter(limit int, window time.Duration) *MemoryLimiter {
	return &MemoryLimiter{limit: limit, window: window, now: time.Now, counts: map[string]int{}}
}

// Allow implements RateLimiter.
func (l *MemoryLimiter) Allow(_ context.Context, user string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := l.now(); now.Sub(l.start) >= l.window {
		l.start = now.Truncate(l.window)
		clear(l.counts)
	}
	l.counts[user]++
	return l.counts[user] <= l.limit, nil
}

// MemoryUnanswered is an UnansweredLog in process memory.
type MemoryUnanswered struct {
	mu     sync.Mutex
	counts map[string]int
}

// NewMemoryUnanswered returns an empty log.
func NewMemoryUnanswered() *MemoryUnanswered {
	return &MemoryUnanswered{counts: map[string]int{}}
}

// MaxUnansweredTexts bounds the distinct texts the in-memory log keeps.
const MaxUnansweredTexts = 10000

// RecordUnanswered implements UnansweredLog. At MaxUnansweredTexts distinct
// texts, the ones seen once make room: what recurs is what the report is
// for.
func (m *MemoryUnanswered) RecordUnanswered(_ context.Context, text string) error {
	if text = NormalizeUnanswered(text); text == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.counts[text]; !ok && len(m.counts) >= MaxUnansweredTexts {
		for t, c := range m.counts {
			if c <= 1 {
				delete(m.counts, t)
			}
		}
		if len(m.counts) >= MaxUnansweredTexts {
			return nil
		}
	}
	m.counts[text]++
	return nil
}

// TopUnanswered implements UnansweredLog.
func (m *MemoryUnanswered) TopUnanswered(_ context.Context, n int) ([]Unanswered, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Unanswered, 0, len(m.counts))
	for t, c := range m.counts {
		out = append(out, Unanswered{Text: t, Count: c})
	}
	slices.SortFunc(out, func(a, b Unanswered) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Text, b.Text)
	})
	return out[:min(n, len(out))], nil
}
