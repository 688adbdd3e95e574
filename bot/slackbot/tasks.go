package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot/delivery"
	"github.com/enrollbot/enrollbot/bot/queue"
)

// task is the work behind one acknowledged delivery as the reply queue
// keeps it: exactly one of its parts is set.
type task struct {
	Message *job     `json:"message,omitempty"`
	Command *command `json:"command,omitempty"`
	Click   *click   `json:"click,omitempty"`
	// Card is the experts' card a ticket button was on; set with Click.
	Card *slack.Blocks `json:"card,omitempty"`
}

// enqueue records t for lane (a user) under the delivery's claim key, so
// that the delivery may be acknowledged; added is false for a repeat,
// which is counted and logged. An error means the delivery must not be
// acknowledged: Slack (or the user) sends it again.
func (b *Bot) enqueue(ctx context.Context, key string, ttl time.Duration, user string, t task, attrs []any) (added bool, err error) {
	body, err := json.Marshal(t)
	if err != nil {
		return false, fmt.Errorf("encode task: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, delivery.ClaimTimeout)
	defer cancel()
	added, err = b.queue.Add(ctx, key, ttl, sessionUser(user), body)
	if err != nil {
		b.log.Warn("slack delivery not acknowledged: reply queue unavailable", append(attrs, "err", err)...)
		return false, err
	}
	if !added {
		b.cfg.Observer.DedupeHit("slack")
		b.log.Info("slack delivery already taken", append(attrs, "key", key)...)
	}
	return added, nil
}

// work does a task the queue hands over. The job's id names the turn, so
// that a task worked again (its replica died after the turn was saved)
// shows the conversation's reply instead of taking the turn twice.
func (b *Bot) work(ctx context.Context, j queue.Job) {
	var t task
	if err := json.Unmarshal(j.Body, &t); err != nil {
		b.log.Warn("slack task unreadable", "job", j.ID, "err", err)
		return
	}
	turn := "slack:" + j.ID
	switch {
	case t.Message != nil:
		t.Message.turn = turn
		b.answer(ctx, *t.Message)
	case t.Command != nil:
		t.Command.turn = turn
		b.runCommand(ctx, *t.Command)
	case t.Click != nil && t.Card != nil:
		b.ticketClick(ctx, *t.Click, t.Card.BlockSet)
	case t.Click != nil:
		t.Click.turn = turn
		b.click(ctx, *t.Click)
	default:
		b.log.Warn("slack task empty", "job", j.ID)
	}
}

// jobWire is job's encoding in a task.
type jobWire struct {
	Mode     mode   `json:"mode"`
	EventID  string `json:"event_id,omitempty"`
	Team     string `json:"team,omitempty"`
	Channel  string `json:"channel"`
	User     string `json:"user"`
	Text     string `json:"text"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts,omitempty"`
}

// MarshalJSON encodes j for the reply queue.
func (j job) MarshalJSON() ([]byte, error) {
	return json.Marshal(jobWire{Mode: j.mode, EventID: j.eventID, Team: j.team, Channel: j.channel,
		User: j.user, Text: j.text, TS: j.ts, ThreadTS: j.threadTS})
}

// UnmarshalJSON decodes a job from the reply queue.
func (j *job) UnmarshalJSON(data []byte) error {
	var w jobWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*j = job{mode: w.Mode, eventID: w.EventID, team: w.Team, channel: w.Channel, user: w.User,
		text: w.Text, ts: w.TS, threadTS: w.ThreadTS}
	return nil
}

// clickWire is click's encoding in a task.
type clickWire struct {
	Action      string `json:"action"`
	Value       string `json:"value,omitempty"`
	User        string `json:"user"`
	Channel     string `json:"channel"`
	MessageTS   string `json:"message_ts,omitempty"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	Ephemeral   bool   `json:"ephemeral,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
}

// MarshalJSON encodes k for the reply queue.
func (k click) MarshalJSON() ([]byte, error) {
	return json.Marshal(clickWire{Action: k.action, Value: k.value, User: k.user, Channel: k.channel,
		MessageTS: k.messageTS, ThreadTS: k.threadTS, Ephemeral: k.ephemeral, ResponseURL: k.responseURL})
}

// UnmarshalJSON decodes a click from the reply queue.
func (k *click) UnmarshalJSON(data []byte) error {
	var w clickWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*k = click{action: w.Action, value: w.Value, user: w.User, channel: w.Channel, messageTS: w.MessageTS,
		threadTS: w.ThreadTS, ephemeral: w.Ephemeral, responseURL: w.ResponseURL}
	return nil
}
