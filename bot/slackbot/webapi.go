package slackbot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot/delivery"
)

// call runs one Web API call, retrying what is worth retrying: a 429 after
// the Retry-After it names, a transient 5xx or network failure with a
// doubling, jittered backoff (package delivery), at most MaxRetries times
// and never past ctx's deadline. slack-go leaves retries off unless asked
// (OptionRetry), so these are the only ones; it reports a 429 with
// Retry-After as *slack.RateLimitedError and other HTTP failures as
// slack.StatusCodeError. A final failure is logged with attrs (channel,
// event id) and returned.
func (b *Bot) call(ctx context.Context, method string, attrs []any, f func(ctx context.Context) error) error {
	r := delivery.Retry{Max: b.cfg.MaxRetries, Backoff: b.cfg.Backoff, Sleep: b.sleep,
		OnRetry: func(attempt int, wait time.Duration, err error) {
			b.log.Debug("slack call retried", append([]any{"method", method, "attempt", attempt, "wait", wait, "err", err}, attrs...)...)
			b.cfg.Observer.APIRetry("slack")
		}}
	attempts, err := r.Do(ctx, retryable, f)
	if err != nil {
		err = fmt.Errorf("slack %s: %w", method, err)
		b.log.Warn("slack call failed", append([]any{"method", method, "attempts", attempts, "err", err}, attrs...)...)
	}
	return err
}

// retryable tells whether a Web API failure is worth another try, and
// after how long when Slack says.
func retryable(err error) delivery.Decision {
	backoff := delivery.Decision{Retry: true}
	later := func(d time.Duration) delivery.Decision { return delivery.Decision{Retry: true, After: d} }
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return later(max(rl.RetryAfter, time.Second))
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return later(time.Second)
		case sc.Code >= 500:
			return backoff
		}
		return delivery.Decision{}
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		switch se.Err {
		case "ratelimited":
			return later(time.Second)
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return backoff
		}
		return delivery.Decision{}
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return backoff
		}
		if _, ok := errors.AsType[*net.OpError](err); ok {
			return backoff
		}
	}
	return delivery.Decision{}
}

// post sends msg to channel, in thread when threadTS is set, and returns
// the new message's timestamp.
func (b *Bot) post(ctx context.Context, channel, threadTS string, msg message, attrs []any) (string, error) {
	opts := msgOptions(msg)
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	var ts string
	err := b.call(ctx, "chat.postMessage", append([]any{"channel", channel}, attrs...), func(ctx context.Context) error {
		var err error
		_, ts, err = b.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	b.gaveUp(ctx, err)
	return ts, err
}

// gaveUp counts a reply that a failing platform kept from its user until
// its deadline; a refusal (a channel the bot is not in) is not counted.
func (b *Bot) gaveUp(ctx context.Context, err error) {
	if err != nil && (ctx.Err() != nil || retryable(err).Retry) {
		b.cfg.Observer.GaveUp("slack")
	}
}

func msgOptions(msg message) []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
}

// ephemeral shows msg to user only: through responseURL when there is one
// (it works in channels the bot is not in), with chat.postEphemeral
// otherwise.
func (b *Bot) ephemeral(ctx context.Context, responseURL, channel, user string, msg message, replace bool, attrs []any) error {
	var err error
	if responseURL != "" {
		err = b.respond(ctx, responseURL, &slack.WebhookMessage{
			ResponseType:    slack.ResponseTypeEphemeral,
			Text:            msg.Text,
			Blocks:          &slack.Blocks{BlockSet: msg.Blocks},
			ReplaceOriginal: replace,
		}, append([]any{"channel", channel}, attrs...))
	} else {
		err = b.call(ctx, "chat.postEphemeral", append([]any{"channel", channel}, attrs...), func(ctx context.Context) error {
			_, err := b.api.PostEphemeralContext(ctx, channel, user, msgOptions(msg)...)
			return err
		})
	}
	b.gaveUp(ctx, err)
	return err
}

// respond posts msg to a response_url.
func (b *Bot) respond(ctx context.Context, responseURL string, msg *slack.WebhookMessage, attrs []any) error {
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		err := fmt.Errorf("slack response_url %q is not an http(s) URL", responseURL)
		b.log.Warn("slack call failed", append([]any{"method", "response_url", "err", err}, attrs...)...)
		return err
	}
	return b.call(ctx, "response_url", attrs, func(ctx context.Context) error {
		return slack.PostWebhookCustomHTTPContext(ctx, responseURL, b.http, msg)
	})
}

// react puts the configured reaction on a message; one that is there
// already is fine.
func (b *Bot) react(ctx context.Context, channel, ts string, attrs []any) {
	_ = b.call(ctx, "reactions.add", append([]any{"channel", channel}, attrs...), func(ctx context.Context) error {
		err := b.api.AddReactionContext(ctx, b.cfg.Reaction, slack.NewRefToMessage(channel, ts))
		if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok && se.Err == "already_reacted" {
			return nil
		}
		return err
	})
}
