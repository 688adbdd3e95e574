package slackbot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// command is a slash command invocation.
type command struct {
	Team        string
	Channel     string
	User        string
	Command     string
	Text        string
	ResponseURL string
	// TriggerID is unique per invocation: a replayed request carries the
	// same one.
	TriggerID string
	// turn names the turn for Sessions: set by the worker, not encoded.
	turn string
}

func (c command) attrs() []any {
	return []any{"command", c.Command, "channel", c.Channel, "user", c.User}
}

// parseCommandForm parses a slash command request body, the form Slack
// posts. It reads the bytes the signature was checked over; the request's
// own body is spent by then.
func parseCommandForm(body []byte) (command, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return command{}, fmt.Errorf("parse slash command form: %w", err)
	}
	return commandOf(slack.SlashCommand{
		TeamID:      form.Get("team_id"),
		ChannelID:   form.Get("channel_id"),
		UserID:      form.Get("user_id"),
		Command:     form.Get("command"),
		Text:        form.Get("text"),
		ResponseURL: form.Get("response_url"),
		TriggerID:   form.Get("trigger_id"),
	})
}

// commandOf checks a slash command as slack-go parses it (Socket Mode).
func commandOf(s slack.SlashCommand) (command, error) {
	c := command{Team: s.TeamID, Channel: s.ChannelID, User: s.UserID, Command: s.Command,
		Text: s.Text, ResponseURL: s.ResponseURL, TriggerID: s.TriggerID}
	if c.User == "" || c.Channel == "" {
		return command{}, errors.New("parse slash command: no user or channel")
	}
	return c, nil
}

// acceptCommand queues the work of a slash command; the reply follows
// through its response_url. A replayed invocation (the same trigger id) is
// answered once. An error means the command must not be acknowledged:
// Slack then tells the user it failed, rather than the reply never coming.
func (b *Bot) acceptCommand(ctx context.Context, c command) error {
	key := ""
	if c.TriggerID != "" {
		key = "slack:command:" + c.Team + ":" + c.TriggerID
	}
	_, err := b.enqueue(ctx, key, b.cfg.DedupeTTL, c.User, task{Command: &c}, c.attrs())
	return err
}

// runCommand answers /enroll help, /enroll lang XX and /enroll TEXT.
func (b *Bot) runCommand(ctx context.Context, c command) {
	text := strings.TrimSpace(c.Text)
	if text == "" || strings.EqualFold(text, "help") {
		b.say(ctx, c, b.words.Get(b.ownLang(ctx, c.User), "SlackHelp", nil), nil)
		return
	}
	if lang, clear, ok := bot.ParseLangCommand(text); ok {
		b.langCommand(ctx, c, lang, clear)
		return
	}
	b.ask(ctx, c, bot.Input{Text: text, Locale: b.locale(ctx, c.User)}, text)
}

// say shows the user one of the bot's own texts, which are mrkdwn, with
// buttons below when there are any.
func (b *Bot) say(ctx context.Context, c command, text string, buttons []slack.BlockElement) {
	msg := note(text)
	if len(buttons) > 0 {
		msg.Blocks = append(msg.Blocks, slack.NewActionBlock(blockLangActions, buttons...))
	}
	_ = b.ephemeral(ctx, c.ResponseURL, c.Channel, c.User, msg, false, c.attrs())
}

// langCommand acts on /enroll lang nl (through Sessions, which saves the
// choice, and the engine, which shows the conversation's current reply in
// that language), /enroll lang auto (the choice cleared) and /enroll lang
// with anything else (how to use it, with a button per language).
func (b *Bot) langCommand(ctx context.Context, c command, lang kb.Lang, clear bool) {
	switch {
	case lang != "":
		b.ask(ctx, c, bot.Input{Action: bot.ActLang, Lang: lang, Locale: b.locale(ctx, c.User)}, "")
	case clear:
		if err := b.sessions.ClearLang(ctx, sessionUser(c.User), cmdConversation(c.Channel, c.User)); err != nil {
			b.log.Warn("slack language preference", append(c.attrs(), "err", err)...)
			return
		}
		b.say(ctx, c, b.words.Get(b.ownLang(ctx, c.User), "LangCleared", nil), nil)
	default:
		lang := b.ownLang(ctx, c.User)
		b.say(ctx, c, b.words.Get(lang, "LangUsage", nil), langButtons(cmdConversation(c.Channel, c.User)))
	}
}

// cmdConversation is where a user's slash commands in a channel continue
// each other: a private thread of sorts.
func cmdConversation(channel, user string) string {
	return "slack:cmd:" + channel + ":" + user
}

// ask answers /enroll TEXT (or a language switch) privately, quoting what
// the user asked, with a button to post the reply to the channel.
func (b *Bot) ask(ctx context.Context, c command, in bot.Input, echo string) {
	conv := cmdConversation(c.Channel, c.User)
	out := b.sessions.Handle(ctx, bot.Turn{ID: c.turn, Key: conv, User: sessionUser(c.User), Input: in})
	reply := out.Reply
	msg := b.render.render(reply, view{conv: conv, echo: echo, asker: c.User, private: true, share: shareable(reply)})
	_ = b.ephemeral(ctx, c.ResponseURL, c.Channel, c.User, msg, false, c.attrs())
}

// shareable reports whether a private reply is worth a "Post to channel"
// button: what the channel would hear unasked.
func shareable(r bot.Reply) bool { return r.Speaks() }
