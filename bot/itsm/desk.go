package itsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
)

// Record is the ticket a conversation has open: its reference in each
// tracker, by tracker name.
type Record struct {
	Refs    map[string]string
	Created time.Time
}

// ref is what the user is told: every tracker's reference, in the order
// the trackers are configured.
func (r Record) ref(trackers []Tracker) string {
	var refs []string
	for _, t := range trackers {
		if v := r.Refs[t.Name()]; v != "" {
			refs = append(refs, v)
		}
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
	Trackers []Tracker
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
	if len(cfg.Trackers) == 0 {
		return nil, errors.New("itsm: a desk needs a tracker")
	}
	d := &Desk{trackers: cfg.Trackers, records: cfg.Records, retry: cfg.Retry, log: cfg.Logger, now: cfg.Now}
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
		for _, t := range d.trackers {
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
	rec = Record{Refs: map[string]string{}, Created: d.now()}
	var errs []error
	for _, t := range d.trackers {
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
