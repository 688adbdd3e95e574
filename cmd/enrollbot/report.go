package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

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
		return exitError{2, usage}
	}
	if *redisURL == "" {
		return exitError{2, "enrollbot report: REDIS_URL is not set; the report reads the shared store that `enrollbot serve` writes"}
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
	return writeReport(ctx, stdout, store, store, cat, *top)
}

// writeReport renders the report from any store.
func writeReport(ctx context.Context, w io.Writer, log bot.UnansweredLog, feedback bot.FeedbackStore, cat *kb.Catalog, top int) error {
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
	return tw.Flush()
}
