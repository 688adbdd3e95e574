package teamsbot

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/enrollbot/enrollbot/bot/delivery"
)

// The kinds of task.
const (
	taskMessage = "message"
	taskWelcome = "welcome"
)

// task is the work behind one acknowledged activity as the reply queue
// keeps it: the activity as it arrived (verified), and what to do with it.
type task struct {
	Kind     string   `json:"kind"`
	Activity *inbound `json:"activity"`
}

// enqueue records the work of kind on in under the activity's claim; a
// repeat is counted and logged. An error means the activity must not be
// acknowledged.
func (b *Bot) enqueue(ctx context.Context, in *inbound, kind string) error {
	body, err := json.Marshal(task{Kind: kind, Activity: in})
	if err != nil {
		return fmt.Errorf("encode task: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, delivery.ClaimTimeout)
	defer cancel()
	added, err := b.queue.Add(ctx, claimKey(in), b.cfg.DedupeTTL, in.sessionUser(), body)
	if err != nil {
		b.log.Warn("teams activity not acknowledged: reply queue unavailable", append(in.attrs(), "err", err)...)
		return err
	}
	if !added {
		b.cfg.Observer.DedupeHit("teams")
		b.log.Info("teams activity already taken", in.attrs()...)
	}
	return nil
}
