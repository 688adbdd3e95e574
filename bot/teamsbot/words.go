package teamsbot

import (
	"log/slog"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/bot"
)

// words localizes the Teams adapter's own wording: the Teams* message ids
// of package locales, and the engine's AnswerNoted.
type words struct {
	*bot.Wording
}

func newWords(bundle *i18n.Bundle, log *slog.Logger) *words {
	return &words{bot.NewWording(bundle, "teams", log)}
}
