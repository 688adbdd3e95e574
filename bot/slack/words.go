package slack

import (
	"log/slog"
	"regexp"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/kb"
)

// words localizes the Slack adapter's own wording (the Slack* message ids
// of package locales).
type words struct {
	loc map[kb.Lang]*i18n.Localizer
	log *slog.Logger
}

func newWords(bundle *i18n.Bundle, log *slog.Logger) *words {
	w := &words{loc: map[kb.Lang]*i18n.Localizer{}, log: log}
	for _, l := range kb.Langs {
		w.loc[l] = i18n.NewLocalizer(bundle, string(l), string(kb.English))
	}
	return w
}

// get returns message id in lang, escaped for mrkdwn. A missing message
// falls back to English, and to its id when English lacks it too; both are
// logged, and `enrollbot kb lint` keeps the built-in files complete.
func (w *words) get(lang kb.Lang, id string, data map[string]any) string {
	loc, ok := w.loc[lang]
	if !ok {
		loc = w.loc[kb.English]
	}
	s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil && s == "" {
		w.log.Error("slack wording missing", "id", id, "lang", lang, "err", err)
		return id
	}
	return s
}

// userPlaceholder stands for a mention while a message is escaped.
const userPlaceholder = "\x00user\x00"

// withUser returns message id in lang as mrkdwn, with {{.User}} a mention
// of user that survives the escaping of the rest.
func (w *words) withUser(lang kb.Lang, id, user string) string {
	s := escape(w.get(lang, id, map[string]any{"User": userPlaceholder}))
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
