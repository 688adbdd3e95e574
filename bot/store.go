package bot

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/kb"
)

// Store keeps conversation state between turns. Implementations must be
// safe for concurrent use; the production issue adds one backed by Redis.
type Store interface {
	// Conversation returns the state saved under key; ok is false when there
	// is none or it expired.
	Conversation(ctx context.Context, key string) (s State, ok bool, err error)
	// SaveConversation saves s under key for ttl.
	SaveConversation(ctx context.Context, key string, s State, ttl time.Duration) error
}

// sweeper decides when an in-memory map is swept of expired keys: when it
// has doubled since the last sweep (at least minSweep keys), so that a
// sweep's cost is spread over the writes that grew the map: amortized
// constant time per write, where sweeping every write past a size cost
// milliseconds at 100k keys under the lock.
type sweeper struct{ next int }

const minSweep = 1024

// due reports whether a map of n keys should be swept now.
func (w *sweeper) due(n int) bool {
	if w.next == 0 {
		w.next = minSweep
	}
	return n >= w.next
}

// swept records the size left after a sweep.
func (w *sweeper) swept(n int) { w.next = max(minSweep, 2*n) }

// MemoryStore is a Store in process memory, for a single replica.
type MemoryStore struct {
	mu    sync.Mutex
	convs map[string]memoryItem
	sweep sweeper
	now   func() time.Time
}

type memoryItem struct {
	state   State
	expires time.Time
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{convs: map[string]memoryItem{}, now: time.Now}
}

// Conversation implements Store.
func (s *MemoryStore) Conversation(_ context.Context, key string) (State, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.convs[key]
	if !ok || !s.now().Before(it.expires) {
		delete(s.convs, key)
		return State{}, false, nil
	}
	return it.state, true, nil
}

// SaveConversation implements Store. Expired conversations are swept now
// and then (see sweeper), so that memory stays bounded by the live ones.
func (s *MemoryStore) SaveConversation(_ context.Context, key string, st State, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.sweep.due(len(s.convs)) {
		for k, it := range s.convs {
			if !now.Before(it.expires) {
				delete(s.convs, k)
			}
		}
		s.sweep.swept(len(s.convs))
	}
	s.convs[key] = memoryItem{state: st, expires: now.Add(ttl)}
	return nil
}

// Preferences keeps what users chose for themselves, such as the reply
// language. Implementations must be safe for concurrent use.
type Preferences interface {
	// Lang returns the language user saved; ok is false when there is none.
	Lang(ctx context.Context, user string) (lang kb.Lang, ok bool, err error)
	// SetLang saves lang as user's language; an empty lang clears it.
	SetLang(ctx context.Context, user string, lang kb.Lang) error
}

// Dedupe remembers keys for a while, so that work delivered twice (Slack
// retries an event it thinks was lost) is done once. Implementations must be
// safe for concurrent use and make SetIfAbsent atomic.
type Dedupe interface {
	// SetIfAbsent records key for ttl and reports whether it was absent:
	// true means the caller is the first and should do the work.
	SetIfAbsent(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Feedback is one user's verdict on an answer.
type Feedback struct {
	// Entry is the catalog entry the answer showed.
	Entry string
	// Solved is the verdict: true for "solved", false for "not solved".
	Solved bool
	// User identifies who gave it.
	User string
	// Message identifies the answer message; a user's later verdict on the
	// same message replaces the earlier one.
	Message string
	Lang    kb.Lang
}

// FeedbackCounts sums the verdicts on one entry.
type FeedbackCounts struct {
	Solved    int
	NotSolved int
}

// FeedbackStore records users' verdicts per entry. Implementations must be
// safe for concurrent use.
type FeedbackStore interface {
	// RecordFeedback records f.
	RecordFeedback(ctx context.Context, f Feedback) error
	// FeedbackCounts sums the verdicts recorded for entry.
	FeedbackCounts(ctx context.Context, entry string) (FeedbackCounts, error)
}

// MemoryPreferences is Preferences in process memory, for a single replica.
type MemoryPreferences struct {
	mu    sync.Mutex
	langs map[string]kb.Lang
}

// NewMemoryPreferences returns an empty in-memory preference store.
func NewMemoryPreferences() *MemoryPreferences {
	return &MemoryPreferences{langs: map[string]kb.Lang{}}
}

// Lang implements Preferences.
func (p *MemoryPreferences) Lang(_ context.Context, user string) (kb.Lang, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.langs[user]
	return l, ok, nil
}

// SetLang implements Preferences.
func (p *MemoryPreferences) SetLang(_ context.Context, user string, lang kb.Lang) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if lang == "" {
		delete(p.langs, user)
		return nil
	}
	p.langs[user] = lang
	return nil
}

// MemoryDedupe is Dedupe in process memory, for a single replica.
type MemoryDedupe struct {
	mu    sync.Mutex
	keys  map[string]time.Time
	sweep sweeper
	now   func() time.Time
}

// NewMemoryDedupe returns an empty in-memory dedupe store.
func NewMemoryDedupe() *MemoryDedupe {
	return &MemoryDedupe{keys: map[string]time.Time{}, now: time.Now}
}

// SetIfAbsent implements Dedupe. Expired keys are swept now and then (see
// sweeper), so that memory stays bounded by the live ones.
func (d *MemoryDedupe) SetIfAbsent(_ context.Context, key string, ttl time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if exp, ok := d.keys[key]; ok && now.Before(exp) {
		return false, nil
	}
	if d.sweep.due(len(d.keys)) {
		for k, exp := range d.keys {
			if !now.Before(exp) {
				delete(d.keys, k)
			}
		}
		d.sweep.swept(len(d.keys))
	}
	d.keys[key] = now.Add(ttl)
	return true, nil
}

// MemoryFeedback is a FeedbackStore in process memory, for a single replica.
type MemoryFeedback struct {
	mu sync.Mutex
	// votes maps an entry to its verdicts, one per message and user.
	votes map[string]map[feedbackVoter]bool
}

type feedbackVoter struct{ message, user string }

// NewMemoryFeedback returns an empty in-memory feedback store.
func NewMemoryFeedback() *MemoryFeedback {
	return &MemoryFeedback{votes: map[string]map[feedbackVoter]bool{}}
}

// RecordFeedback implements FeedbackStore.
func (m *MemoryFeedback) RecordFeedback(_ context.Context, f Feedback) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	votes := m.votes[f.Entry]
	if votes == nil {
		votes = map[feedbackVoter]bool{}
		m.votes[f.Entry] = votes
	}
	votes[feedbackVoter{f.Message, f.User}] = f.Solved
	return nil
}

// FeedbackCounts implements FeedbackStore.
func (m *MemoryFeedback) FeedbackCounts(_ context.Context, entry string) (FeedbackCounts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var c FeedbackCounts
	for _, solved := range m.votes[entry] {
		if solved {
			c.Solved++
		} else {
			c.NotSolved++
		}
	}
	return c, nil
}

// Desk hands conversations to people: an experts channel, an ITSM.
type Desk interface {
	// HandOff sends a confirmed hand-off and returns its ticket. A second
	// hand-off from the same conversation while its ticket is open adds
	// to that ticket.
	HandOff(ctx context.Context, h Handoff) (Ticket, error)
	// Relay passes what the user wrote in the conversation key to the
	// people working on its open ticket (the experts' thread); nothing
	// when it has none or it is resolved.
	Relay(ctx context.Context, key, user, text string) error
}

// ErrHandoffPending is wrapped by a Desk's error when no one took the
// hand-off yet but it is kept and retried: the user is told it will come.
var ErrHandoffPending = errors.New("hand-off pending")

// Handoff is a confirmed request for a person from one conversation.
type Handoff struct {
	// Key names the conversation; User the user, channel-scoped.
	Key, User string
	// UserName is the user's display name, when known (Turn.UserName).
	UserName string
	// Link opens the conversation (Turn.Link); empty when private.
	Link string
	// Reach is how the adapter reaches the conversation later (Turn.Reach).
	Reach   string
	Request HandoffRequest
}

// Ticket is a hand-off as people see it.
type Ticket struct {
	// Ref is the reference the user is given (a Jira key, an incident
	// number).
	Ref string
	// Added is true when the hand-off was added to an open ticket.
	Added bool
	// Relays is true when people reply in the conversation and read what
	// the user writes next (an experts channel took it).
	Relays bool
}

// Settings keeps the few things an admin sets from a chat (the Teams
// experts channel): small values by key, kept until changed.
type Settings interface {
	// Setting returns the value under key; ok is false when none is set.
	Setting(ctx context.Context, key string) (value string, ok bool, err error)
	// SetSetting sets key to value; an empty value removes it.
	SetSetting(ctx context.Context, key, value string) error
}

// MemorySettings keeps settings in process memory.
type MemorySettings struct {
	mu sync.Mutex
	m  map[string]string
}

// Setting implements Settings.
func (s *MemorySettings) Setting(_ context.Context, key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	return v, ok, nil
}

// SetSetting implements Settings.
func (s *MemorySettings) SetSetting(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == "" {
		delete(s.m, key)
		return nil
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[key] = value
	return nil
}

// TurnStarter reads in one go what a turn starts from, for a backend that
// keeps Store, Preferences and RateLimiter together (redisstore sends the
// three as one round trip): the user's saved language, the turn counted
// against the user's rate limit (as RateLimiter.Allow), and the
// conversation. Each part carries its own error, as the three calls would.
type TurnStarter interface {
	StartTurn(ctx context.Context, q TurnQuery) TurnStart
}

// TurnQuery says which parts of a turn's start to read.
type TurnQuery struct {
	// User is whose language and limit; Key names the conversation.
	User, Key string
	// Lang reads the user's saved language; Limit counts the turn;
	// Conversation reads the conversation under Key.
	Lang, Limit, Conversation bool
}

// TurnStart is what StartTurn read; a part not asked for is zero.
type TurnStart struct {
	// Lang is the user's saved language; LangOK is false when there is
	// none; LangErr is why it could not be read.
	Lang    kb.Lang
	LangOK  bool
	LangErr error
	// Allowed reports the turn within the user's limit; LimitErr is why
	// the turn could not be counted.
	Allowed  bool
	LimitErr error
	// State is the conversation; StateOK is false when there is none or
	// it expired; StateErr is why it could not be read.
	State    State
	StateOK  bool
	StateErr error
}
