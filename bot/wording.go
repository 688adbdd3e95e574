package bot

import (
	"log/slog"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/kb"
)

// Wording localizes enrollbot's own messages (package locales), for the
// engine and every channel adapter. It is safe for concurrent use.
type Wording struct {
	name string
	loc  map[kb.Lang]*i18n.Localizer
	log  *slog.Logger
}

// NewWording prepares a localizer per catalog language; name tells the
// logs who asked (bot, slack, teams).
func NewWording(bundle *i18n.Bundle, name string, log *slog.Logger) *Wording {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Wording{name: name, loc: map[kb.Lang]*i18n.Localizer{}, log: log}
	for _, l := range kb.Langs {
		w.loc[l] = i18n.NewLocalizer(bundle, string(l), string(kb.English))
	}
	return w
}

// Get returns message id in lang with data filled in. A message missing in
// lang falls back to English, which the user sees, and is logged; one
// missing in English too comes back as its id. `enrollbot kb lint` keeps
// the built-in files complete.
func (w *Wording) Get(lang kb.Lang, id string, data map[string]any) string {
	loc, ok := w.loc[lang]
	if !ok {
		loc = w.loc[kb.English]
	}
	s, tag, err := loc.LocalizeWithTag(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil && s == "" {
		w.log.Error(w.name+" wording missing", "id", id, "lang", lang, "err", err)
		return id
	}
	if base, _ := tag.Base(); base.String() != string(lang) {
		w.log.Warn(w.name+" wording falls back to English", "id", id, "lang", lang)
	}
	return s
}
