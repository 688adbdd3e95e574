package queue

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/bot"
)

// DefaultMemoryMax bounds the jobs a Memory backend holds.
const DefaultMemoryMax = 10_000

// Memory is the in-process Backend: one consumer, jobs lost with the
// process. Its claims go to a bot.Dedupe. Take hands out the waiting jobs
// lane by lane in turn, so that a burst in one lane does not hold up the
// others however many jobs wait.
type Memory struct {
	claims bot.Dedupe
	max    int
	// prefix makes job ids unique beyond the process: they name turns
	// in conversations a shared store keeps.
	prefix string

	mu      sync.Mutex
	seq     uint64
	waiting *lanes
	taken   map[string]Job
	more    chan struct{}
}

var _ Backend = (*Memory)(nil)

// NewMemory returns a Memory backend that claims deliveries in claims and
// holds at most max jobs (DefaultMemoryMax when zero).
func NewMemory(claims bot.Dedupe, max int) *Memory {
	if max <= 0 {
		max = DefaultMemoryMax
	}
	return &Memory{claims: claims, max: max, prefix: strconv.FormatUint(rand.Uint64(), 36) + "-", waiting: newLanes(), taken: map[string]Job{}, more: make(chan struct{}, 1)}
}

// Add implements Backend.
func (m *Memory) Add(ctx context.Context, key string, ttl time.Duration, j Job) (bool, error) {
	m.mu.Lock()
	full := m.waiting.len()+len(m.taken) >= m.max
	m.mu.Unlock()
	if full {
		return false, ErrFull
	}
	if key != "" {
		first, err := m.claims.SetIfAbsent(ctx, key, ttl)
		if err != nil || !first {
			return false, err
		}
	}
	m.mu.Lock()
	m.seq++
	j.ID = m.prefix + strconv.FormatUint(m.seq, 10)
	m.waiting.push(j, false)
	m.mu.Unlock()
	select {
	case m.more <- struct{}{}:
	default:
	}
	return true, nil
}

// Take implements Backend.
func (m *Memory) Take(ctx context.Context, max int, wait time.Duration) ([]Job, error) {
	var timeout <-chan time.Time
	for {
		m.mu.Lock()
		if m.waiting.len() > 0 {
			var jobs []Job
			for len(jobs) < max {
				j, ok := m.waiting.pop()
				if !ok {
					break
				}
				m.taken[j.ID] = j
				jobs = append(jobs, j)
			}
			more := m.waiting.len() > 0
			m.mu.Unlock()
			if more {
				select {
				case m.more <- struct{}{}:
				default:
				}
			}
			return jobs, nil
		}
		m.mu.Unlock()
		if wait <= 0 {
			return nil, nil
		}
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-m.more:
		case <-timeout:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Hold implements Backend: there is no other consumer to hold jobs from.
func (m *Memory) Hold(context.Context, []string) error { return nil }

// HoldEvery implements Backend: never.
func (m *Memory) HoldEvery() time.Duration { return 0 }

// Release implements Backend: the jobs are taken again first.
func (m *Memory) Release(_ context.Context, ids []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if j, ok := m.taken[id]; ok {
			delete(m.taken, id)
			m.waiting.push(j, true)
		}
	}
	return nil
}

// Done implements Backend.
func (m *Memory) Done(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.taken, id)
	m.mu.Unlock()
	return nil
}

// Len implements Backend.
func (m *Memory) Len(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.waiting.len() + len(m.taken), nil
}

// Durable implements Backend: jobs die with the process.
func (m *Memory) Durable() bool { return false }
