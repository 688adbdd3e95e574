package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/enrollbot/enrollbot/internal/cli"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/redisstore"
	"github.com/enrollbot/enrollbot/kb"
)

// runReport prints what the catalog's keepers need: the questions the bot
// could not place, most frequent first, and the feedback per entry. Both
// live in the shared store, so the report reads Redis.
func runReport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	top := fs.Int("top", 20, "how many unanswered messages to list")
	redisURL := fs.String("redis-url", os.Getenv("REDIS_URL"), "the shared store (REDIS_URL)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return cli.ExitError{Code: 2, Msg: usage}
	}
	if *redisURL == "" {
		return cli.ExitError{Code: 2, Msg: "enrollbotd report: REDIS_URL is not set; the report reads the shared store that `enrollbotd serve` writes"}
	}
	store, err := redisstore.Open(ctx, *redisURL, redisstore.Options{})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer store.Close()
	cat, err := kb.LoadBuiltin()
	if err != nil {
		return fmt.Errorf("load built-in catalog: %w", err)
	}
	return writeReport(ctx, stdout, store, store, store, cat, *top)
}

// writeReport renders the report from any store.
func writeReport(ctx context.Context, w io.Writer, log bot.UnansweredLog, feedback bot.FeedbackStore, tickets bot.Tickets, cat *kb.Catalog, top int) error {
	unanswered, err := log.TopUnanswered(ctx, top)
	if err != nil {
		return fmt.Errorf("report unanswered: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Most frequent unanswered messages (top %d)\n", top)
	if len(unanswered) == 0 {
		fmt.Fprintln(tw, "  none recorded")
	}
	for _, u := range unanswered {
		fmt.Fprintf(tw, "  %d\t%s\n", u.Count, u.Text)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Feedback per entry\tsolved\tnot solved")
	listed := false
	for _, e := range cat.Entries {
		c, err := feedback.FeedbackCounts(ctx, e.ID)
		if err != nil {
			return errors.Join(tw.Flush(), fmt.Errorf("report feedback %s: %w", e.ID, err))
		}
		if c.Solved+c.NotSolved == 0 {
			continue
		}
		listed = true
		fmt.Fprintf(tw, "  %s\t%d\t%d\n", e.ID, c.Solved, c.NotSolved)
	}
	if !listed {
		fmt.Fprintln(tw, "  none recorded")
	}
	all, err := tickets.AllTickets(ctx)
	if err != nil {
		return errors.Join(tw.Flush(), fmt.Errorf("report tickets: %w", err))
	}
	fmt.Fprintln(tw)
	writeTickets(tw, all)
	return tw.Flush()
}

// ticketFigures are the counts and times of a group of tickets.
type ticketFigures struct {
	open, taken, resolved int
	toTake, toResolve     []time.Duration
}

func (f *ticketFigures) add(t bot.TicketRecord) {
	switch t.State {
	case bot.TicketTaken:
		f.taken++
	case bot.TicketResolved:
		f.resolved++
	default:
		f.open++
	}
	if !t.Taken.IsZero() {
		f.toTake = append(f.toTake, t.Taken.Sub(t.Created))
	}
	if !t.Resolved.IsZero() {
		f.toResolve = append(f.toResolve, t.Resolved.Sub(t.Created))
	}
}

func (f *ticketFigures) row(name string) string {
	return fmt.Sprintf("  %s\t%d\t%d\t%d\t%s\t%s\n", name, f.open, f.taken, f.resolved, median(f.toTake), median(f.toResolve))
}

// median is the middle duration, rounded to the minute; "-" for none.
func median(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return m.Round(time.Minute).String()
}

// writeTickets reports hand-offs: how many are open, taken and resolved,
// how long taking and resolving took (median), per entry and per
// language, and the catalog gaps experts flagged.
func writeTickets(tw io.Writer, all []bot.TicketRecord) {
	var total ticketFigures
	byEntry := map[string]*ticketFigures{}
	byLang := map[string]*ticketFigures{}
	var gaps []bot.TicketRecord
	for _, t := range all {
		total.add(t)
		entry := t.Entry
		if entry == "" {
			entry = "(no entry)"
		}
		for _, g := range []struct {
			m map[string]*ticketFigures
			k string
		}{{byEntry, entry}, {byLang, string(t.Lang)}} {
			if g.m[g.k] == nil {
				g.m[g.k] = &ticketFigures{}
			}
			g.m[g.k].add(t)
		}
		if t.Gap {
			gaps = append(gaps, t)
		}
	}
	fmt.Fprintln(tw, "Hand-offs\topen\ttaken\tresolved\tmedian to take\tmedian to resolve")
	if len(all) == 0 {
		fmt.Fprintln(tw, "  none recorded")
		return
	}
	fmt.Fprint(tw, total.row("all"))
	for _, group := range []struct {
		title string
		m     map[string]*ticketFigures
	}{{"per entry", byEntry}, {"per language", byLang}} {
		fmt.Fprintf(tw, "  %s:\n", group.title)
		for _, k := range slices.Sorted(maps.Keys(group.m)) {
			fmt.Fprint(tw, "  "+group.m[k].row(k))
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Catalog gaps flagged by experts")
	if len(gaps) == 0 {
		fmt.Fprintln(tw, "  none flagged")
	}
	for _, t := range gaps {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", t.Ref, t.Entry, t.Lang, t.Conversation)
	}
}
