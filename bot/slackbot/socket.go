package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode serves Slack over Socket Mode until ctx ends: client (made
// with socketmode.New from an API client that has the app-level xapp-
// token) connects out to Slack, and every envelope it receives is
// acknowledged first, then handed to the same handlers as the HTTP
// endpoints. It returns nil when ctx ends, or the error that stopped the
// connection for good (an invalid token, say).
func (b *Bot) RunSocketMode(ctx context.Context, client *socketmode.Client) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-errc
			return nil
		case err := <-errc:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("slack socket mode: %w", err)
		case evt := <-client.Events:
			if err := b.socketEvent(ctx, client, evt); err != nil {
				cancel()
				<-errc
				return err
			}
		}
	}
}

// socketEvent handles one Socket Mode event.
func (b *Bot) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) error {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		if evt.Request == nil {
			return nil
		}
		env, err := parseEnvelope(evt.Request.Payload)
		if err != nil {
			b.ack(ctx, client, evt.Request.EnvelopeID)
			b.log.Warn("slack socket mode event", "envelope_id", evt.Request.EnvelopeID, "err", err)
			return nil
		}
		// Acknowledged only once claimed: unacknowledged, Slack delivers
		// the envelope again.
		if err := b.acceptEvent(ctx, env, evt.Request.RetryAttempt); err == nil {
			b.ack(ctx, client, evt.Request.EnvelopeID)
		}
	case socketmode.EventTypeSlashCommand:
		if evt.Request == nil {
			return nil
		}
		sc, _ := evt.Data.(slack.SlashCommand)
		c, err := commandOf(sc)
		if err != nil {
			b.ack(ctx, client, evt.Request.EnvelopeID)
			b.log.Warn("slack socket mode command", "envelope_id", evt.Request.EnvelopeID, "err", err)
			return nil
		}
		// Acknowledged only once queued, as events are.
		if b.acceptCommand(ctx, c) == nil {
			b.ack(ctx, client, evt.Request.EnvelopeID)
		}
	case socketmode.EventTypeInteractive:
		if evt.Request == nil {
			return nil
		}
		ic, ok := evt.Data.(slack.InteractionCallback)
		if !ok || b.acceptInteraction(ctx, &ic) == nil {
			b.ack(ctx, client, evt.Request.EnvelopeID)
		}
	case socketmode.EventTypeErrorBadMessage:
		// An envelope slack-go could not parse (an event type it does not
		// know) is still acknowledged, or Slack sends it again.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		if bad == nil {
			return nil
		}
		var req struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if json.Unmarshal(bad.Message, &req) == nil && req.EnvelopeID != "" {
			b.ack(ctx, client, req.EnvelopeID)
		}
		b.log.Warn("slack socket mode message not understood", "envelope_id", req.EnvelopeID, "err", bad.Cause)
	case socketmode.EventTypeInvalidAuth:
		return errors.New("slack socket mode: invalid app-level token (SLACK_APP_TOKEN)")
	case socketmode.EventTypeConnectionError:
		b.log.Warn("slack socket mode connection failed; retrying", "err", evt.Data)
	case socketmode.EventTypeConnected:
		b.log.Info("slack socket mode connected")
	}
	return nil
}

func (b *Bot) ack(ctx context.Context, client *socketmode.Client, envelopeID string) {
	if envelopeID == "" {
		return
	}
	if err := client.AckCtx(ctx, envelopeID, nil); err != nil {
		b.log.Warn("slack socket mode ack failed", "envelope_id", envelopeID, "err", err)
	}
}
