package teams

import (
	"log/slog"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/kb"
)

// words localizes the Teams adapter's own wording: the Teams* message ids
// of package locales, and the engine's AnswerNoted.
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

// get returns message id in lang, as plain text with the catalog's
// **bold**. A missing message falls back to English, and to its id when
// English lacks it too; that is logged, and `enrollbot kb lint` keeps the
// built-in files complete.
func (w *words) get(lang kb.Lang, id string, data map[string]any) string {
	loc, ok := w.loc[lang]
	if !ok {
		loc = w.loc[kb.English]
	}
	s, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil && s == "" {
		w.log.Error("teams wording missing", "id", id, "lang", lang, "err", err)
		return id
	}
	return s
}
