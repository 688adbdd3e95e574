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
	})
}

// commandOf checks a slash command as slack-go parses it (Socket Mode).
func commandOf(s slack.SlashCommand) (command, error) {
	c := command{Team: s.TeamID, Channel: s.ChannelID, User: s.UserID, Command: s.Command,
		Text: s.Text, ResponseURL: s.ResponseURL}
	if c.User == "" || c.Channel == "" {
		return command{}, errors.New("parse slash command: no user or channel")
	}
	return c, nil
}

// acceptCommand starts the work of a slash command; the reply follows
// through its response_url.
func (b *Bot) acceptCommand(c command) {
	if err := b.spawn(func(ctx context.Context) { b.runCommand(ctx, c) }); err != nil {
		b.log.Warn("slack command dropped", append(c.attrs(), "err", err)...)
	}
}

// runCommand answers /enroll help, /enroll lang XX and /enroll TEXT.
func (b *Bot) runCommand(ctx context.Context, c command) {
	text := strings.TrimSpace(c.Text)
	fields := strings.Fields(text)
	switch {
	case len(fields) == 0 || (len(fields) == 1 && strings.EqualFold(fields[0], "help")):
		lang := b.replyLang(ctx, c.User)
		b.say(ctx, c, b.words.Get(lang, "SlackHelp", nil))
	case len(fields) <= 2 && strings.EqualFold(fields[0], "lang"):
		b.setLang(ctx, c, fields[1:])
	default:
		b.ask(ctx, c, text)
	}
}

// say shows the user one of the bot's own texts, which are mrkdwn.
func (b *Bot) say(ctx context.Context, c command, text string) {
	text = escape(text)
	msg := message{Text: cut(text, maxFallback)}
	for _, s := range chunk(text, maxSectionText) {
		msg.Blocks = append(msg.Blocks, section(s))
	}
	_ = b.ephemeral(ctx, c.ResponseURL, c.Channel, c.User, msg, false, c.attrs())
}

func (b *Bot) setLang(ctx context.Context, c command, args []string) {
	if len(args) == 0 {
		lang := b.replyLang(ctx, c.User)
		b.say(ctx, c, b.words.Get(lang, "SlackLangUsage", nil))
		return
	}
	arg := strings.ToLower(args[0])
	if arg == "auto" || arg == "reset" || arg == "off" {
		if err := b.prefs.SetLang(ctx, prefKey(c.User), ""); err != nil {
			b.log.Warn("slack language preference", append(c.attrs(), "err", err)...)
			return
		}
		lang := b.replyLang(ctx, c.User)
		b.say(ctx, c, b.words.Get(lang, "SlackLangCleared", nil))
		return
	}
	lang, ok := kb.LangFromLocale(arg)
	if !ok {
		lang := b.replyLang(ctx, c.User)
		b.say(ctx, c, b.words.Get(lang, "SlackLangUsage", nil))
		return
	}
	if err := b.prefs.SetLang(ctx, prefKey(c.User), lang); err != nil {
		b.log.Warn("slack language preference", append(c.attrs(), "err", err)...)
		return
	}
	b.say(ctx, c, b.words.Get(lang, "SlackLangSet", nil))
}

// cmdConversation is where a user's slash commands in a channel continue
// each other: a private thread of sorts.
func cmdConversation(channel, user string) string {
	return "slack:cmd:" + channel + ":" + user
}

// ask answers /enroll TEXT privately, with a button to post the answer.
func (b *Bot) ask(ctx context.Context, c command, text string) {
	lang, locale := b.turnLang(ctx, c.User)
	conv := cmdConversation(c.Channel, c.User)
	reply, err := b.eng.Handle(ctx, bot.Turn{Text: text, Lang: lang, Locale: locale, User: c.User, Conversation: conv})
	if err != nil {
		b.log.Warn("slack conversation state", append(c.attrs(), "err", err)...)
	}
	msg := b.render.render(reply, view{conv: conv, echo: text, asker: c.User, share: speaks(reply.Kind)})
	_ = b.ephemeral(ctx, c.ResponseURL, c.Channel, c.User, msg, false, c.attrs())
}
