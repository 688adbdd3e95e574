package teams

import (
	"log/slog"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// words localizes the Teams adapter's own wording: the Teams* message ids
// of package locales, and the engine's AnswerNoted.
type words struct {
	*bot.Wording
}

func newWords(bundle *i18n.Bundle, log *slog.Logger) *words {
	return &words{bot.NewWording(bundle, "teams", log)}
}

// get returns message id in lang (see bot.Wording.Get).
func (w *words) get(lang kb.Lang, id string, data map[string]any) string {
	return w.Get(lang, id, data)
}
