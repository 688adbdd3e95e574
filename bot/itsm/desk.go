package itsm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
)

// userRef is what the user is told: every tracker's reference, in the
// order the trackers are configured; the desk's own id when no tracker
// has one (only a channel took it).
func userRef(t bot.TicketRecord, trackers []Tracker) string {
	var refs []string
	for _, tr := range trackers {
		if v := t.Refs[tr.Name()]; v != "" {
			refs = append(refs, v)
		}
	}
	if len(refs) == 0 {
		return t.ID
	}
	return strings.Join(refs, " / ")
}

// Desk is the bot.Desk that files hand-offs in trackers.
type Desk struct {
	trackers []Tracker
	channels []Tracker
	newID    func() string
	tickets  bot.Tickets
	retry    delivery.Retry
	log      *slog.Logger
	obs      Observer
	dedupe   bot.Dedupe
	notifier bot.TicketNotifier
	now      func() time.Time
	// mu guards notifier, which is set after the desk is made.
	mu sync.Mutex
	// convs serialize the work on one conversation's ticket in this
	// process (a double click must not open two tickets), striped so
	// that a slow tracker holds up only the conversations that share its
	// stripe, not every hand-off.
	convs [64]sync.Mutex
}

// lock locks the stripe of conversation conv and returns its unlock.
func (d *Desk) lock(conv string) func() {
	h := fnv.New32a()
	h.Write([]byte(conv))
	m := &d.convs[h.Sum32()%uint32(len(d.convs))]
	m.Lock()
	return m.Unlock
}

func (d *Desk) notifierOf() bot.TicketNotifier {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.notifier
}

// Observer is told what the desk does, for metrics. Implementations must
// be safe for concurrent use and must not block.
type Observer interface {
	// HandedOff reports one destination's outcome of a hand-off: created,
	// commented or failed.
	HandedOff(destination, outcome string)
	// TrackerRetry reports a destination's call retried.
	TrackerRetry(destination string)
	// Tickets reports how many tickets the store holds in each state, and
	// how many wait in the outbox (state "pending").
	Tickets(counts map[string]int)
}

type nopObserver struct{}

func (nopObserver) HandedOff(string, string) {}
func (nopObserver) TrackerRetry(string)      {}
func (nopObserver) Tickets(map[string]int)   {}

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
	// Tickets keeps tickets; in memory when nil.
	Tickets bot.Tickets
	// Retry retries a tracker's transient failures.
	Retry  delivery.Retry
	Logger *slog.Logger
	// Observer counts hand-offs and retries; nil counts nothing.
	Observer Observer
	// Dedupe keeps replicas from retrying the same pending ticket at once;
	// nil: no claim (one replica).
	Dedupe bot.Dedupe
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewDesk returns a Desk over at least one tracker.
func NewDesk(cfg DeskConfig) (*Desk, error) {
	if len(cfg.Trackers)+len(cfg.Channels) == 0 {
		return nil, errors.New("itsm: a desk needs a tracker or a channel")
	}
	d := &Desk{trackers: cfg.Trackers, channels: cfg.Channels, newID: cfg.NewID, tickets: cfg.Tickets,
		retry: cfg.Retry, log: cfg.Logger, obs: cfg.Observer, dedupe: cfg.Dedupe, now: cfg.Now}
	if d.obs == nil {
		d.obs = nopObserver{}
	}
	if d.newID == nil {
		d.newID = NewID
	}
	if d.tickets == nil {
		d.tickets = bot.NewMemoryTickets()
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
// ticket in every tracker and tells every channel, a later one while the
// ticket is not resolved comments on it. It fails only when no tracker
// or channel took it.
func (d *Desk) HandOff(ctx context.Context, h bot.Handoff) (bot.Ticket, error) {
	defer d.lock(h.Key)()
	var rec bot.TicketRecord
	open := false
	if h.Key != "" {
		var err error
		rec, open, err = d.tickets.TicketOf(ctx, h.Key)
		if err != nil {
			return bot.Ticket{}, fmt.Errorf("load ticket of %s: %w", h.Key, err)
		}
		open = open && rec.State != bot.TicketResolved
	}
	issue := issueOf(h)
	if open {
		var errs []error
		added := false
		if len(rec.Pending) > 0 {
			added = d.flush(ctx, &rec)
			if err := d.tickets.SaveTicket(ctx, rec); err != nil {
				d.log.Warn("save ticket", "ticket", rec.ID, "err", err)
			}
		}
		for _, t := range d.all() {
			ref := rec.Refs[t.Name()]
			if ref == "" {
				continue
			}
			if err := d.do(ctx, t.Name(), func(ctx context.Context) error { return t.Comment(ctx, ref, issue.Body) }); err != nil {
				d.obs.HandedOff(t.Name(), "failed")
				errs = append(errs, fmt.Errorf("comment on %s %s: %w", t.Name(), ref, err))
				continue
			}
			d.obs.HandedOff(t.Name(), "commented")
			added = true
		}
		if !added {
			return bot.Ticket{}, errors.Join(errs...)
		}
		return bot.Ticket{Ref: rec.Ref, Added: true}, nil
	}
	rec = bot.TicketRecord{ID: d.newID(), Refs: map[string]string{}, Conversation: h.Key, Reach: h.Reach, User: h.User, UserName: h.UserName,
		Lang: h.Request.Lang, Entry: h.Request.Entry, State: bot.TicketOpen, Created: d.now()}
	var errs []error
	for i, t := range d.all() {
		if i == len(d.trackers) {
			// The channels show the reference the user is given.
			issue.Ref = userRef(rec, d.trackers)
			issue.Pending = len(rec.Pending) > 0
		}
		var ref string
		err := d.do(ctx, t.Name(), func(ctx context.Context) error {
			var err error
			ref, err = t.Create(ctx, issue)
			return err
		})
		if err != nil {
			d.obs.HandedOff(t.Name(), "failed")
			d.log.Error("create ticket", "tracker", t.Name(), "err", err)
			errs = append(errs, fmt.Errorf("create ticket in %s: %w", t.Name(), err))
			if i < len(d.trackers) {
				rec.Pending = append(rec.Pending, t.Name())
			}
			continue
		}
		d.obs.HandedOff(t.Name(), "created")
		rec.Refs[t.Name()] = ref
	}
	// The outbox keeps what the trackers are still to take with the
	// ticket, so that a restart does not lose it; the experts' card is
	// redrawn from it.
	rec.Title, rec.Body = issue.Title, issue.Body
	if len(rec.Refs) == 0 && len(rec.Pending) == 0 {
		return bot.Ticket{}, errors.Join(errs...)
	}
	rec.Ref = userRef(rec, d.trackers)
	if err := d.tickets.SaveTicket(ctx, rec); err != nil {
		d.log.Warn("save ticket", "ticket", rec.ID, "err", err)
		if len(rec.Refs) == 0 {
			return bot.Ticket{}, errors.Join(append(errs, err)...)
		}
	}
	if len(rec.Refs) == 0 {
		return bot.Ticket{}, fmt.Errorf("ticket %s: %w: %w", rec.ID, bot.ErrHandoffPending, errors.Join(errs...))
	}
	relays := false
	for _, c := range d.channels {
		relays = relays || rec.Refs[c.Name()] != ""
	}
	return bot.Ticket{Ref: rec.Ref, Relays: relays}, nil
}

// SetNotifier makes the desk tell users when a pending ticket reaches
// the service desk; the chat adapters that can tell them are made after
// the desk.
func (d *Desk) SetNotifier(n bot.TicketNotifier) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.notifier = n
}

// flush offers a ticket's pending issue to the trackers still to take it,
// and reports whether any did. The caller holds t's conversation lock and
// saves t.
func (d *Desk) flush(ctx context.Context, t *bot.TicketRecord) bool {
	issue := Issue{Title: t.Title, Body: t.Body, Conversation: t.Conversation, User: t.User, UserName: t.UserName, Lang: string(t.Lang), Entry: t.Entry}
	var still []string
	took := false
	for _, name := range t.Pending {
		tr := d.tracker(name)
		if tr == nil {
			continue
		}
		ref, err := tr.Create(ctx, issue)
		if err != nil {
			d.obs.HandedOff(name, "failed")
			d.log.Warn("pending ticket still refused", "ticket", t.ID, "tracker", name, "err", err)
			still = append(still, name)
			continue
		}
		d.obs.HandedOff(name, "created")
		t.Refs[name] = ref
		took = true
	}
	t.Pending = still
	if !took {
		return false
	}
	t.Ref = userRef(*t, d.trackers)
	for _, c := range d.channels {
		if ref := t.Refs[c.Name()]; ref != "" {
			if err := c.Comment(ctx, ref, "Ticket: "+t.Ref); err != nil {
				d.log.Warn("tell channel the ticket", "ticket", t.ID, "err", err)
			}
		}
	}
	if n := d.notifierOf(); n != nil {
		if _, err := n.TicketNews(ctx, *t, bot.TicketOpen); err != nil {
			d.log.Warn("tell user the ticket", "ticket", t.ID, "err", err)
		}
	}
	return true
}

func (d *Desk) tracker(name string) Tracker {
	for _, t := range d.trackers {
		if t.Name() == name {
			return t
		}
	}
	return nil
}

// RetryPending offers every unresolved ticket's pending issue to the
// trackers again: the outbox after a tracker's outage or a restart. A
// ticket another replica is retrying (claimed in Dedupe) is skipped.
func (d *Desk) RetryPending(ctx context.Context) error {
	all, err := d.tickets.AllTickets(ctx)
	if err != nil {
		return fmt.Errorf("list tickets: %w", err)
	}
	// The outbox walks every ticket anyway: it counts them for metrics on
	// the way (read from the shared store, so every replica reports the
	// same figures).
	counts := map[string]int{string(bot.TicketOpen): 0, string(bot.TicketTaken): 0, string(bot.TicketResolved): 0, "pending": 0}
	for _, t := range all {
		counts[string(t.State)]++
		if len(t.Pending) > 0 && t.State != bot.TicketResolved {
			counts["pending"]++
		}
	}
	d.obs.Tickets(counts)
	for _, t := range all {
		if len(t.Pending) == 0 || t.State == bot.TicketResolved {
			continue
		}
		if d.dedupe != nil {
			first, err := d.dedupe.SetIfAbsent(ctx, "outbox:"+t.ID, time.Minute)
			if err != nil || !first {
				continue
			}
		}
		unlock := d.lock(t.Conversation)
		// Reload under the lock: a hand-off may have flushed it meanwhile.
		cur, ok, err := d.tickets.TicketByRef(ctx, t.ID)
		if err == nil && ok && len(cur.Pending) > 0 && d.flush(ctx, &cur) {
			if err := d.tickets.SaveTicket(ctx, cur); err != nil {
				d.log.Warn("save ticket", "ticket", cur.ID, "err", err)
			}
		}
		unlock()
	}
	return nil
}

// Run retries pending tickets at once (what an earlier process left) and
// then every interval, until ctx ends.
func (d *Desk) Run(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := d.RetryPending(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("retry pending tickets", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Mark implements bot.TicketDesk. A move the ticket already made (a
// second Resolved, a desk repeating itself) changes and saves nothing.
func (d *Desk) Mark(ctx context.Context, ref string, state bot.TicketState, who string, gap bool) (bot.TicketRecord, bool, error) {
	t, ok, err := d.tickets.TicketByRef(ctx, ref)
	if err == nil && ok {
		// Read again under the conversation's lock: a hand-off or the
		// outbox may be saving it.
		defer d.lock(t.Conversation)()
		t, ok, err = d.tickets.TicketByRef(ctx, ref)
	}
	if err != nil {
		return bot.TicketRecord{}, false, fmt.Errorf("load ticket %s: %w", ref, err)
	}
	if !ok {
		return bot.TicketRecord{}, false, fmt.Errorf("ticket %s: %w", ref, ErrNoTicket)
	}
	now := d.now()
	switch {
	case gap && !t.Gap:
		t.Gap = true
	case !gap && state == bot.TicketTaken && t.State == bot.TicketOpen:
		t.State, t.By, t.Taken = state, who, now
	case !gap && state == bot.TicketResolved && t.State != bot.TicketResolved:
		if t.Taken.IsZero() {
			t.Taken = now
		}
		t.State, t.By, t.Resolved = state, who, now
	default:
		return t, false, nil
	}
	if err := d.tickets.SaveTicket(ctx, t); err != nil {
		return bot.TicketRecord{}, false, fmt.Errorf("save ticket %s: %w", t.ID, err)
	}
	return t, true, nil
}

// Ticket implements bot.TicketDesk.
func (d *Desk) Ticket(ctx context.Context, ref string) (bot.TicketRecord, bool, error) {
	return d.tickets.TicketByRef(ctx, ref)
}

// maxRelay bounds what one relayed message carries.
const maxRelay = 3000

// Relay implements bot.Desk: the user's message goes to the channels'
// threads of the conversation's open ticket (not to the trackers, whose
// tickets grow only by explicit requests). Only the user who asked is
// relayed: a colleague's remark in the same channel thread did not agree
// to reach the experts.
func (d *Desk) Relay(ctx context.Context, key, user, text string) error {
	if key == "" || len(d.channels) == 0 || strings.TrimSpace(text) == "" {
		return nil
	}
	t, ok, err := d.tickets.TicketOf(ctx, key)
	if err != nil {
		return fmt.Errorf("load ticket of %s: %w", key, err)
	}
	if !ok || t.State == bot.TicketResolved || t.User != user {
		return nil
	}
	if r := []rune(text); len(r) > maxRelay {
		text = string(r[:maxRelay]) + "…"
	}
	var errs []error
	for _, c := range d.channels {
		ref := t.Refs[c.Name()]
		if ref == "" {
			continue
		}
		if err := c.Comment(ctx, ref, "» "+text); err != nil {
			errs = append(errs, fmt.Errorf("relay to %s %s: %w", c.Name(), ref, err))
		}
	}
	return errors.Join(errs...)
}

// ErrNoTicket is returned for a reference no ticket has.
var ErrNoTicket = errors.New("no such ticket")

// all is the trackers, then the channels.
func (d *Desk) all() []Tracker {
	return append(d.trackers[:len(d.trackers):len(d.trackers)], d.channels...)
}

// NewID is a ticket id short enough to read out and random enough not to
// collide: EB- and eight letters or digits.
func NewID() string { return "EB-" + strings.ToUpper(rand.Text()[:8]) }

func (d *Desk) do(ctx context.Context, name string, f func(ctx context.Context) error) error {
	r := d.retry
	r.OnRetry = func(attempt int, wait time.Duration, err error) {
		d.obs.TrackerRetry(name)
		d.log.Warn("tracker call retried", "tracker", name, "attempt", attempt, "wait", wait, "err", err)
	}
	_, err := r.Do(ctx, classify, f)
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
	return Issue{Title: oneLine(title, 200), Body: body, Conversation: h.Key, User: h.User, UserName: h.UserName, Link: h.Link, Lang: string(r.Lang),
		Codes: r.Codes, Entry: r.Entry}
}
