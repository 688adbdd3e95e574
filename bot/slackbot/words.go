package slackbot

import (
	"log/slog"
	"regexp"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// words localizes the Slack adapter's own wording (the Slack* message ids
// of package locales).
type words struct {
	*bot.Wording
}

func newWords(bundle *i18n.Bundle, log *slog.Logger) *words {
	return &words{bot.NewWording(bundle, "slack", log)}
}

// userPlaceholder stands for a mention while a message is escaped.
const userPlaceholder = "\x00user\x00"

// withUser returns message id in lang as mrkdwn, with {{.User}} a mention
// of user that survives the escaping of the rest.
func (w *words) withUser(lang kb.Lang, id, user string) string {
	s := escape(w.Get(lang, id, map[string]any{"User": userPlaceholder}))
	return strings.ReplaceAll(s, userPlaceholder, mention(user))
}

var userID = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)

// mention returns the mrkdwn that mentions user, or the escaped id when it
// does not look like a Slack user id.
func mention(user string) string {
	if userID.MatchString(user) {
		return "<@" + user + ">"
	}
	return escape(user)
}
