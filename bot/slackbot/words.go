package slackbot

import (
	"regexp"
	"strings"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// words localizes the Slack adapter's own wording (the Slack* message ids
// of package locales, and the shared ones): the engine's localizer, which
// every adapter shares.
type words struct {
	*bot.Wording
}

func newWords(w *bot.Wording) *words { return &words{w} }

// userPlaceholder stands for a mention while a message is escaped.
const userPlaceholder = "\x00user\x00"

// withUser returns message id in lang as mrkdwn, with {{.User}} a mention
// of user that survives the escaping of the rest, and data's other fields.
func (w *words) withUser(lang kb.Lang, id, user string, data map[string]any) string {
	d := map[string]any{"User": userPlaceholder}
	for k, v := range data {
		d[k] = v
	}
	s := escape(w.Get(lang, id, d))
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
