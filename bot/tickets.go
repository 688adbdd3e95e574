package bot

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/kb"
)

// TicketState is where a hand-off stands.
type TicketState string

// The states of a ticket.
const (
	TicketOpen     TicketState = "open"
	TicketTaken    TicketState = "taken"
	TicketResolved TicketState = "resolved"
)

// TicketRecord is a hand-off as the store keeps it.
type TicketRecord struct {
	// ID is the desk's own id (EB-…).
	ID string `json:"id"`
	// Ref is what the user was told (a Jira key, an incident number, or ID).
	Ref string `json:"ref"`
	// Refs are the ticket's references in each tracker and channel, by
	// name ("jira", "slack-experts").
	Refs         map[string]string `json:"refs,omitempty"`
	Conversation string            `json:"conversation"`
	// Reach is how the conversation's adapter reaches it (Turn.Reach).
	Reach string `json:"reach,omitempty"`
	User  string `json:"user,omitempty"`
	// UserName is the user's display name, when known.
	UserName string      `json:"user_name,omitempty"`
	Lang     kb.Lang     `json:"lang,omitempty"`
	Entry    string      `json:"entry,omitempty"`
	State    TicketState `json:"state"`
	// By is who took or resolved it last.
	By       string    `json:"by,omitempty"`
	Created  time.Time `json:"created"`
	Taken    time.Time `json:"taken,omitzero"`
	Resolved time.Time `json:"resolved,omitzero"`
	// Gap marks a ticket experts flagged as a catalog gap.
	Gap bool `json:"gap,omitempty"`
	// Pending names the trackers that have yet to take the ticket: the
	// outbox, retried until they do. Title and Body are what was sent,
	// for them and for the experts' card when it is redrawn.
	Pending []string `json:"pending,omitempty"`
	Title   string   `json:"title,omitempty"`
	Body    string   `json:"body,omitempty"`
}

// Tickets keeps hand-offs: by id, by the conversation's latest, and by any
// of their references. Implementations must be safe for concurrent use.
type Tickets interface {
	// SaveTicket saves t and indexes it by conversation and references.
	SaveTicket(ctx context.Context, t TicketRecord) error
	// TicketOf returns the conversation's latest ticket.
	TicketOf(ctx context.Context, conversation string) (TicketRecord, bool, error)
	// TicketByRef returns the ticket with id or reference ref.
	TicketByRef(ctx context.Context, ref string) (TicketRecord, bool, error)
	// AllTickets returns every ticket kept, for reports.
	AllTickets(ctx context.Context) ([]TicketRecord, error)
}

// MemoryTickets keeps tickets in process memory: a restart forgets them.
type MemoryTickets struct {
	mu     sync.Mutex
	byID   map[string]TicketRecord
	byConv map[string]string
	byRef  map[string]string
}

// NewMemoryTickets returns an empty ticket store.
func NewMemoryTickets() *MemoryTickets {
	return &MemoryTickets{byID: map[string]TicketRecord{}, byConv: map[string]string{}, byRef: map[string]string{}}
}

// SaveTicket implements Tickets.
func (m *MemoryTickets) SaveTicket(_ context.Context, t TicketRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Refs = maps.Clone(t.Refs)
	m.byID[t.ID] = t
	if t.Conversation != "" {
		m.byConv[t.Conversation] = t.ID
	}
	m.byRef[t.ID] = t.ID
	if t.Ref != "" {
		m.byRef[t.Ref] = t.ID
	}
	for _, r := range t.Refs {
		m.byRef[r] = t.ID
	}
	return nil
}

// TicketOf implements Tickets.
func (m *MemoryTickets) TicketOf(_ context.Context, conversation string) (TicketRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.byID[m.byConv[conversation]]
	return t, ok, nil
}

// TicketByRef implements Tickets.
func (m *MemoryTickets) TicketByRef(_ context.Context, ref string) (TicketRecord, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.byID[m.byRef[ref]]
	return t, ok, nil
}

// AllTickets implements Tickets, oldest first.
func (m *MemoryTickets) AllTickets(context.Context) ([]TicketRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Collect(maps.Values(m.byID))
	slices.SortFunc(out, func(a, b TicketRecord) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// TicketDesk is what channel adapters tell of a ticket's life: an expert
// took it, resolved it, flagged it as a catalog gap.
type TicketDesk interface {
	// Mark moves the ticket ref to state (taken, resolved) by who; gap
	// flags it as a catalog gap instead. It returns the ticket after, and
	// whether this call changed it.
	Mark(ctx context.Context, ref string, state TicketState, who string, gap bool) (t TicketRecord, changed bool, err error)
	// Ticket returns the ticket with id or reference ref.
	Ticket(ctx context.Context, ref string) (TicketRecord, bool, error)
}

// TicketNotifier tells a ticket's user, in their conversation, what
// happens outside it. told is false when the conversation is not one the
// notifier reaches (another chat platform).
type TicketNotifier interface {
	// TicketNews tells that the service desk resolved the ticket
	// (TicketResolved), or that a ticket that was pending reached it
	// (TicketOpen).
	TicketNews(ctx context.Context, t TicketRecord, news TicketState) (told bool, err error)
	// RelayToUser passes what an expert (named by from, a display name;
	// empty when unknown) wrote about the ticket.
	RelayToUser(ctx context.Context, t TicketRecord, from, text string) (told bool, err error)
}

// Notifiers asks each of its notifiers in turn until one reaches the
// ticket's user: every chat adapter serves its own conversations. It is
// made before the adapters, which are added as they are made.
type Notifiers struct {
	mu   sync.Mutex
	list []TicketNotifier
}

// Add adds n.
func (ns *Notifiers) Add(n TicketNotifier) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	ns.list = append(ns.list, n)
}

func (ns *Notifiers) each(f func(n TicketNotifier) (bool, error)) (bool, error) {
	ns.mu.Lock()
	list := slices.Clone(ns.list)
	ns.mu.Unlock()
	for _, n := range list {
		if told, err := f(n); told || err != nil {
			return told, err
		}
	}
	return false, nil
}

// TicketNews implements TicketNotifier.
func (ns *Notifiers) TicketNews(ctx context.Context, t TicketRecord, news TicketState) (bool, error) {
	return ns.each(func(n TicketNotifier) (bool, error) { return n.TicketNews(ctx, t, news) })
}

// RelayToUser implements TicketNotifier.
func (ns *Notifiers) RelayToUser(ctx context.Context, t TicketRecord, from, text string) (bool, error) {
	return ns.each(func(n TicketNotifier) (bool, error) { return n.RelayToUser(ctx, t, from, text) })
}

// NewsMessage is the id of the message (package locales) that tells a
// user news; ok is false for news users are not told.
func NewsMessage(news TicketState) (id string, ok bool) {
	switch news {
	case TicketResolved:
		return "UserResolvedDesk", true
	case TicketOpen:
		return "UserTicketCreated", true
	case TicketTaken:
		return "UserTakenBy", true
	}
	return "", false
}
