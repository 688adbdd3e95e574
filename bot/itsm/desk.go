package itsm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
)

// Record is the ticket a conversation has open: the desk's own id, and
// its reference in each tracker and channel, by name.
type Record struct {
	ID      string
	Refs    map[string]string
	Created time.Time
}

// ref is what the user is told: every tracker's reference, in the order
// the trackers are configured; the desk's own id when no tracker has one
// (only a channel took it).
func (r Record) ref(trackers []Tracker) string {
	var refs []string
	for _, t := range trackers {
		if v := r.Refs[t.Name()]; v != "" {
			refs = append(refs, v)
		}
	}
	if len(refs) == 0 {
		return r.ID
	}
	return strings.Join(refs, " / ")
}

// Records keeps each conversation's open ticket.
type Records interface {
	Record(ctx context.Context, conversation string) (Record, bool, error)
	SaveRecord(ctx context.Context, conversation string, r Record) error
}

// MemoryRecords keeps records in the process: a restart forgets them.
type MemoryRecords struct {
	mu sync.Mutex
	m  map[string]Record
}

// Record implements Records.
func (m *MemoryRecords) Record(_ context.Context, conversation string) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.m[conversation]
	return r, ok, nil
}

// SaveRecord implements Records.
func (m *MemoryRecords) SaveRecord(_ context.Context, conversation string, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]Record{}
	}
	m.m[conversation] = r
	return nil
}

// Desk is the bot.Desk that files hand-offs in trackers.
type Desk struct {
	trackers []Tracker
	channels []Tracker
	newID    func() string
	records  Records
	retry    delivery.Retry
	log      *slog.Logger
	now      func() time.Time
	// mu serializes hand-offs of one process, so that a double click does
	// not open two tickets.
	mu sync.Mutex
}

// DeskConfig wires a Desk.
type DeskConfig struct {
	// Trackers file tickets whose references the user is told (Jira,
	// ServiceNow, a webhook).
	Trackers []Tracker
	// Channels are told of each ticket after the trackers, with its
	// reference (an experts channel); their own references stay inside.
	Channels []Tracker
	// NewID makes the desk's own ticket id; NewID from this package when
	// nil.
	NewID func() string
	// Records keeps open tickets; in memory when nil.
	Records Records
	// Retry retries a tracker's transient failures.
	Retry  delivery.Retry
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewDesk returns a Desk over at least one tracker.
func NewDesk(cfg DeskConfig) (*Desk, error) {
	if len(cfg.Trackers)+len(cfg.Channels) == 0 {
		return nil, errors.New("itsm: a desk needs a tracker or a channel")
	}
	d := &Desk{trackers: cfg.Trackers, channels: cfg.Channels, newID: cfg.NewID, records: cfg.Records,
		retry: cfg.Retry, log: cfg.Logger, now: cfg.Now}
	if d.newID == nil {
		d.newID = NewID
	}
	if d.records == nil {
		d.records = &MemoryRecords{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d, nil
}

// HandOff implements bot.Desk: a conversation's first hand-off creates a
// ticket in every tracker, a later one comments on it. It fails only when
// no tracker took it.
func (d *Desk) HandOff(ctx context.Context, h bot.Handoff) (bot.Ticket, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec, open, err := d.records.Record(ctx, h.Key)
	if err != nil {
		return bot.Ticket{}, fmt.Errorf("load ticket of %s: %w", h.Key, err)
	}
	issue := issueOf(h)
	if open && h.Key != "" {
		var errs []error
		added := false
		for _, t := range d.all() {
			ref := rec.Refs[t.Name()]
			if ref == "" {
				continue
			}
			if err := d.do(ctx, func(ctx context.Context) error { return t.Comment(ctx, ref, issue.Body) }); err != nil {
				errs = append(errs, fmt.Errorf("comment on %s %s: %w", t.Name(), ref, err))
				continue
			}
			added = true
		}
		if !added {
			return bot.Ticket{}, errors.Join(errs...)
		}
		return bot.Ticket{Ref: rec.ref(d.trackers), Added: true}, nil
	}
	rec = Record{ID: d.newID(), Refs: map[string]string{}, Created: d.now()}
	var errs []error
	for i, t := range d.all() {
		if i == len(d.trackers) {
			// The channels show the reference the user was given.
			issue.Ref = rec.ref(d.trackers)
			issue.Pending = len(d.trackers) > 0 && len(rec.Refs) == 0
		}
		var ref string
		err := d.do(ctx, func(ctx context.Context) error {
			var err error
			ref, err = t.Create(ctx, issue)
			return err
		})
		if err != nil {
			d.log.Error("create ticket", "tracker", t.Name(), "err", err)
			errs = append(errs, fmt.Errorf("create ticket in %s: %w", t.Name(), err))
			continue
		}
		rec.Refs[t.Name()] = ref
	}
	if len(rec.Refs) == 0 {
		return bot.Ticket{}, errors.Join(errs...)
	}
	if h.Key != "" {
		if err := d.records.SaveRecord(ctx, h.Key, rec); err != nil {
			d.log.Warn("save ticket", "key", h.Key, "err", err)
		}
	}
	return bot.Ticket{Ref: rec.ref(d.trackers)}, nil
}

// all is the trackers, then the channels.
func (d *Desk) all() []Tracker {
	return append(d.trackers[:len(d.trackers):len(d.trackers)], d.channels...)
}

// NewID is a ticket id short enough to read out and random enough not to
// collide: EB- and eight letters or digits.
func NewID() string { return "EB-" + strings.ToUpper(rand.Text()[:8]) }

func (d *Desk) do(ctx context.Context, f func(ctx context.Context) error) error {
	_, err := d.retry.Do(ctx, classify, f)
	return err
}

// classify retries what a tracker says may succeed later, and network
// failures.
func classify(err error) delivery.Decision {
	var se *StatusError
	if errors.As(err, &se) {
		return delivery.Decision{Retry: se.Retryable(), After: se.RetryAfter}
	}
	return delivery.Decision{Retry: true}
}

// issueOf files a hand-off: the title names the codes or the first line of
// the error, the body is the conversation's summary and where it came
// from.
func issueOf(h bot.Handoff) Issue {
	r := h.Request
	title := "Enrollment problem"
	switch {
	case len(r.Codes) > 0:
		title += ": " + strings.Join(r.Codes, ", ")
	case strings.TrimSpace(r.Error) != "":
		title += ": " + strings.TrimSpace(strings.SplitN(strings.TrimSpace(r.Error), "\n", 2)[0])
	}
	body := r.Summary
	if h.User != "" {
		body += "\n\nUser: " + h.User
	}
	if h.Key != "" {
		body += "\nConversation: " + h.Key
	}
	return Issue{Title: oneLine(title, 200), Body: body, Conversation: h.Key, User: h.User, Lang: string(r.Lang),
		Codes: r.Codes, Entry: r.Entry}
}
