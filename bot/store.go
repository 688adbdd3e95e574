package bot

import (
	"context"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/kb"
)

// State is what the engine remembers of a conversation between turns.
type State struct {
	// Lang is the language the conversation is in.
	Lang kb.Lang `json:"lang,omitempty"`
	// Text is what the user said while the engine was still unsure; a
	// clarification is matched together with it.
	Text string `json:"text,omitempty"`
	// Choices are the entry ids offered, in the order they were numbered.
	Choices []string `json:"choices,omitempty"`
	// Entry is the entry answered last.
	Entry string `json:"entry,omitempty"`
	// Answers are checklist answers given so far: question id → option id.
	Answers map[string]string `json:"answers,omitempty"`
}

// Store keeps conversation state between turns. Implementations must be
// safe for concurrent use; the production issue adds one backed by Redis.
type Store interface {
	// Conversation returns the state saved under key; ok is false when there
	// is none or it expired.
	Conversation(ctx context.Context, key string) (s State, ok bool, err error)
	// SaveConversation saves s under key for ttl.
	SaveConversation(ctx context.Context, key string, s State, ttl time.Duration) error
}

// MemoryStore is a Store in process memory, for a single replica.
type MemoryStore struct {
	mu    sync.Mutex
	convs map[string]memoryItem
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

// SaveConversation implements Store. Expired conversations are swept on
// write so that memory stays bounded by the live ones.
func (s *MemoryStore) SaveConversation(_ context.Context, key string, st State, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.convs) > 1024 {
		for k, it := range s.convs {
			if !now.Before(it.expires) {
				delete(s.convs, k)
			}
		}
	}
	s.convs[key] = memoryItem{state: st, expires: now.Add(ttl)}
	return nil
}
