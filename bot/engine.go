package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/kb"
	"github.com/enrollbot/enrollbot/locales"
)

// DefaultStateTTL is how long a conversation is remembered between turns.
const DefaultStateTTL = 30 * time.Minute

// Config wires an Engine.
type Config struct {
	Matcher *kb.Matcher
	// Bundle holds the bot's own wording (package locales).
	Bundle *i18n.Bundle
	// Store remembers conversations; nil means every turn stands alone.
	Store Store
	// DefaultLang is the reply language when nothing else decides; English
	// when empty.
	DefaultLang kb.Lang
	// StateTTL bounds how long a conversation is remembered.
	StateTTL time.Duration
	// Limiter bounds turns per user; nil means no limit.
	Limiter RateLimiter
	// Unanswered records what got a clarify reply; nil records nothing.
	Unanswered UnansweredLog
	// Observer is told every reply, for metrics; nil observes nothing.
	Observer Observer
	Logger   *slog.Logger
}

// Engine turns user turns into replies. It is safe for concurrent use.
type Engine struct {
	m       *kb.Matcher
	cat     *kb.Catalog
	wording *Wording
	store   Store
	lang    kb.Lang
	ttl     time.Duration
	limit   RateLimiter
	unans   UnansweredLog
	obs     Observer
	log     *slog.Logger
}

// New checks cfg and returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Matcher == nil || cfg.Bundle == nil {
		return nil, errors.New("bot: matcher and message bundle are required")
	}
	e := &Engine{
		m:       cfg.Matcher,
		cat:     cfg.Matcher.Catalog(),
		wording: NewWording(cfg.Bundle, "bot", cfg.Logger),
		store:   cfg.Store,
		lang:    cfg.DefaultLang,
		ttl:     cfg.StateTTL,
		limit:   cfg.Limiter,
		unans:   cfg.Unanswered,
		obs:     cfg.Observer,
		log:     cfg.Logger,
	}
	if e.obs == nil {
		e.obs = NopObserver{}
	}
	if e.lang == "" {
		e.lang = kb.English
	}
	if !e.lang.Valid() {
		return nil, fmt.Errorf("bot: default language %q is not one of en, nl, sv, de", e.lang)
	}
	if e.ttl == 0 {
		e.ttl = DefaultStateTTL
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e, nil
}

// Handle answers one turn. It fails only when the conversation store does;
// the reply is still usable then, as if the turn stood alone.
func (e *Engine) Handle(ctx context.Context, t Turn) (Reply, error) {
	start := time.Now()
	r, err := e.handle(ctx, t)
	e.obs.Replied(r.Kind, time.Since(start))
	return r, err
}

func (e *Engine) handle(ctx context.Context, t Turn) (Reply, error) {
	if e.limit != nil && t.User != "" {
		ok, err := e.limit.Allow(ctx, t.User)
		if err != nil {
			// A limiter that cannot count must not silence everyone.
			e.log.Warn("rate limiter unavailable", "err", err)
		} else if !ok {
			return e.limited(t), nil
		}
	}
	var st State
	var haveState bool
	var storeErr error
	if e.store != nil && t.Conversation != "" {
		st, haveState, storeErr = e.store.Conversation(ctx, t.Conversation)
		if storeErr != nil {
			storeErr = fmt.Errorf("load conversation %s: %w", t.Conversation, storeErr)
			haveState = false
		}
	}

	reply, next := e.respond(t, st, haveState)

	if reply.Kind == KindClarify && e.unans != nil && strings.TrimSpace(t.Text) != "" {
		if err := e.unans.RecordUnanswered(ctx, kb.Prepare(t.Text).Text); err != nil {
			e.log.Warn("record unanswered", "err", err)
		}
	}
	if e.store != nil && t.Conversation != "" && storeErr == nil {
		if err := e.store.SaveConversation(ctx, t.Conversation, next, e.ttl); err != nil {
			storeErr = fmt.Errorf("save conversation %s: %w", t.Conversation, err)
		}
	}
	return reply, storeErr
}

// limited is the reply to a user over the rate limit: no matching, a
// short request to wait, in the language of the turn's explicit choice or
// locale.
func (e *Engine) limited(t Turn) Reply {
	lang := e.replyLang(t, kb.LangGuess{}, State{})
	return Reply{Kind: KindLimited, Lang: lang, Intro: e.word(lang, "RateLimited", nil), Words: e.words(lang)}
}

// respond computes the reply and the conversation's next state.
func (e *Engine) respond(t Turn, st State, haveState bool) (Reply, State) {
	// A follow-up in a conversation that offered choices: a number or a
	// platform narrows them down.
	if haveState && len(st.Choices) > 0 {
		if id, ok := pickChoice(t.Text, st.Choices); ok {
			return e.answerEntry(t, st, id, nil)
		}
		if p := e.platformAnswer(t.Text); p != "" {
			var kept []string
			for _, id := range st.Choices {
				if entry, ok := e.cat.Entry(id); ok && entry.Platform == p {
					kept = append(kept, id)
				}
			}
			switch {
			case len(kept) == 1:
				return e.answerEntry(t, st, kept[0], nil)
			case len(kept) > 1:
				lang := e.replyLang(t, kb.LangGuess{}, st)
				st.Choices = kept
				return e.choicesReply(lang, kept, nil, nil), withLang(st, lang)
			}
		}
	}

	// A short reply to a follow-up question of the last answer ("all users",
	// "BYOD") is recorded: the answer comes again with its causes weighed by
	// what the user said and that question no longer asked.
	if haveState && st.Entry != "" {
		if answers, ok := e.checklistAnswers(t.Text, st); ok {
			st.Answers = answers
			st.Text = strings.TrimSpace(st.Text + "\n" + t.Text)
			r, next := e.answerEntry(t, st, st.Entry, nil)
			next.Text = st.Text
			r.Notices = append(r.Notices, e.word(r.Lang, "AnswerNoted", nil))
			return r, next
		}
	}

	res := e.m.Match(t.Text)
	// A clarification continues what the user said before.
	if haveState && st.Text != "" && (res.Outcome == kb.Clarify || res.Outcome == kb.CodeOnly) {
		combined := e.m.Match(st.Text + "\n" + t.Text)
		if combined.Outcome == kb.Answer || combined.Outcome == kb.Choices {
			res = combined
		}
	}
	lang := e.replyLang(t, res.Lang, st)
	next := State{Lang: lang, Answers: st.Answers}

	var r Reply
	switch res.Outcome {
	case kb.Answer:
		top, _ := res.Top()
		r, next = e.answerEntry(t, next, top.Entry.ID, res)
	case kb.Choices:
		ids := make([]string, res.Choices)
		for i := range ids {
			ids[i] = res.Candidates[i].Entry.ID
		}
		r = e.choicesReply(lang, ids, res, e.codeOf(lang, res))
		next.Choices = ids
	case kb.CodeOnly:
		r = Reply{Kind: KindCode, Lang: lang, Code: e.codeOf(lang, res)}
	default:
		r = Reply{Kind: KindClarify, Lang: lang, Intro: e.word(lang, "ClarifyIntro", nil)}
		r.Questions = e.clarifyQuestions(lang, res)
		next.Text = strings.TrimSpace(st.Text + "\n" + res.Query.Text)
		if unknown := e.unknownCode(lang, res); unknown != "" {
			r.Notices = append(r.Notices, unknown)
		}
	}
	r.Lang = lang
	r.Words = e.words(lang)
	r.Notices = append(e.inputNotices(lang, res.Query), r.Notices...)
	r.Candidates = candidates(res, r.Kind)
	return r, next
}

// answerEntry builds the answer for entry id; res is the match that led to
// it, nil when the user picked a choice.
func (e *Engine) answerEntry(t Turn, st State, id string, res *kb.Result) (Reply, State) {
	entry, ok := e.cat.Entry(id)
	if !ok {
		// Only reachable with stale state from an older catalog.
		lang := e.replyLang(t, kb.LangGuess{}, st)
		return Reply{Kind: KindClarify, Lang: lang, Intro: e.word(lang, "ClarifyIntro", nil),
			Questions: e.clarifyQuestions(lang, nil), Words: e.words(lang)}, State{Lang: lang}
	}
	guess := kb.LangGuess{}
	text := t.Text
	if res != nil {
		guess = res.Lang
		text = res.Query.Text
	}
	lang := e.replyLang(t, guess, st)
	r := Reply{Kind: KindAnswer, Lang: lang, Words: e.words(lang)}
	if st.Text != "" {
		text = st.Text + "\n" + text
	}
	r.Entry = e.entryView(lang, entry, e.m.RankCauses(entry, text))
	r.Questions = e.questions(lang, entry.Questions, st.Answers, entry.Platform)
	if res != nil {
		r.Code = e.codeOf(lang, res)
	} else {
		r.Candidates = []Candidate{{ID: entry.ID, Score: 1}}
	}
	return r, State{Lang: lang, Entry: entry.ID, Answers: st.Answers}
}

// maxAnswerWords bounds a reply that is read as an answer to a checklist
// question: "all users" is an answer, a new paste that happens to contain
// "all" is not.
const maxAnswerWords = 5

// checklistAnswers reads a short reply as answers to the open follow-up
// questions of the last answered entry. ok is false when the reply answers
// none of them.
func (e *Engine) checklistAnswers(text string, st State) (map[string]string, bool) {
	lower := strings.ToLower(kb.Prepare(text).Text)
	if lower == "" || len(strings.Fields(lower)) > maxAnswerWords {
		return nil, false
	}
	entry, ok := e.cat.Entry(st.Entry)
	if !ok {
		return nil, false
	}
	answers := map[string]string{}
	for k, v := range st.Answers {
		answers[k] = v
	}
	found := false
	for _, qid := range entry.Questions {
		if _, done := answers[qid]; done {
			continue
		}
		q, ok := e.cat.Question(qid)
		if !ok {
			continue
		}
	options:
		for _, o := range q.Options {
			spellings := append([]string{o.ID}, o.Words...)
			for _, l := range o.Label {
				spellings = append(spellings, strings.ToLower(l))
			}
			for _, w := range spellings {
				if w != "" && (lower == w || containsWord(lower, w) || (strings.Contains(w, " ") && strings.Contains(lower, w))) {
					answers[qid] = o.ID
					found = true
					break options
				}
			}
		}
	}
	return answers, found
}

func (e *Engine) choicesReply(lang kb.Lang, ids []string, res *kb.Result, code *Code) Reply {
	r := Reply{Kind: KindChoices, Lang: lang, Code: code, Words: e.words(lang),
		Intro: e.word(lang, "ChoicesPrompt", nil), Hint: e.word(lang, "ChoicesHint", nil)}
	for i, id := range ids {
		entry, ok := e.cat.Entry(id)
		if !ok {
			continue
		}
		r.Choices = append(r.Choices, Choice{N: i + 1, ID: entry.ID, Title: entry.Title.In(lang), Platform: entry.Platform})
	}
	if res == nil {
		for _, id := range ids {
			r.Candidates = append(r.Candidates, Candidate{ID: id})
		}
	}
	// Choices spanning platforms are told apart fastest by the platform.
	platforms := map[kb.Platform]bool{}
	for _, c := range r.Choices {
		platforms[c.Platform] = true
	}
	if len(platforms) > 1 {
		r.Questions = e.questions(lang, []string{"platform"}, nil, "")
	}
	return r
}

func (e *Engine) entryView(lang kb.Lang, entry *kb.Entry, order []int) *Entry {
	v := &Entry{ID: entry.ID, Title: entry.Title.In(lang), Platform: entry.Platform, SourceURL: entry.Source.URL}
	for n, i := range order {
		c := entry.Causes[i]
		heading := e.word(lang, "Cause", nil)
		if len(order) > 1 {
			heading = e.word(lang, "CauseOf", map[string]any{"N": n + 1, "Total": len(order)})
		}
		v.Causes = append(v.Causes, Cause{ID: c.ID, Heading: heading, Summary: c.Summary.In(lang),
			Steps: c.Steps.In(lang), Notes: c.Notes.In(lang)})
	}
	return v
}

// questions localizes the checklist questions ids, leaving out answered
// ones and options that do not apply to platform.
func (e *Engine) questions(lang kb.Lang, ids []string, answered map[string]string, platform kb.Platform) []Question {
	var out []Question
	for _, id := range ids {
		if _, done := answered[id]; done {
			continue
		}
		q, ok := e.cat.Question(id)
		if !ok {
			continue
		}
		v := Question{ID: q.ID, Text: q.Text.In(lang)}
		for _, o := range q.Options {
			if o.For(platform) {
				v.Options = append(v.Options, Option{ID: o.ID, Label: o.Label.In(lang)})
			}
		}
		out = append(out, v)
	}
	return out
}

// clarifyQuestions asks the checklist's key questions, skipping the
// platform when the user already named it.
func (e *Engine) clarifyQuestions(lang kb.Lang, res *kb.Result) []Question {
	var ids []string
	for _, q := range e.cat.KeyQuestions() {
		if q.ID == "platform" && res != nil && res.Platform != "" {
			continue
		}
		ids = append(ids, q.ID)
	}
	return e.questions(lang, ids, nil, "")
}

// codeOf describes the first code in the query that the table knows.
func (e *Engine) codeOf(lang kb.Lang, res *kb.Result) *Code {
	for _, m := range res.Codes {
		if m.Code != nil {
			return e.codeView(lang, m, res.Outcome == kb.CodeOnly)
		}
	}
	return nil
}

// codeView describes one recognized code; noEntry adds that the catalog
// has no troubleshooting entry for it.
func (e *Engine) codeView(lang kb.Lang, m kb.CodeMention, noEntry bool) *Code {
	label := m.Hex()
	if label == "" {
		label = m.Code.Symbol
	}
	c := &Code{Title: e.word(lang, "CodeTitle", map[string]any{"Code": label}), Hex: m.Hex(),
		Symbol: m.Code.Symbol, Meaning: m.Code.Meaning.In(lang), Raw: m.Raw}
	if m.Repaired {
		c.Repaired = e.word(lang, "CodeRepaired", map[string]any{"Raw": m.Raw, "Code": m.Hex()})
	}
	if noEntry {
		c.NoEntry = e.word(lang, "CodeNoEntry", nil)
	}
	return c
}

func (e *Engine) unknownCode(lang kb.Lang, res *kb.Result) string {
	for _, m := range res.Codes {
		if m.Code == nil && m.Value != 0 {
			return e.word(lang, "CodeUnknown", map[string]any{"Code": m.Hex()})
		}
	}
	return ""
}

func (e *Engine) inputNotices(lang kb.Lang, q kb.Query) []string {
	var out []string
	if q.Text == "" {
		out = append(out, e.word(lang, "NoticeEmpty", nil))
	}
	if q.Truncated {
		out = append(out, e.word(lang, "NoticeTruncated", map[string]any{"N": kb.MaxQueryRunes}))
	}
	if q.InvalidUTF8 {
		out = append(out, e.word(lang, "NoticeInvalidUTF8", nil))
	}
	return out
}

// replyLang decides the reply language: an explicit choice, then the
// language the user writes in (unless all they "wrote" is an English device
// message and the client says otherwise), then the conversation's language,
// then the client's locale, then the default.
func (e *Engine) replyLang(t Turn, g kb.LangGuess, st State) kb.Lang {
	if t.Lang.Valid() {
		return t.Lang
	}
	locale, localeOK := kb.LangFromLocale(t.Locale)
	if g.Lang != "" && !(g.DeviceOnly && ((localeOK && locale != kb.English) || st.Lang.Valid())) {
		return g.Lang
	}
	if st.Lang.Valid() {
		return st.Lang
	}
	if localeOK {
		return locale
	}
	if t.Locale != "" {
		return kb.English
	}
	return e.lang
}

// platformAnswer reads a reply to the platform question ("iOS", "Windows 11").
func (e *Engine) platformAnswer(text string) kb.Platform {
	q, ok := e.cat.Question("platform")
	if !ok {
		return ""
	}
	lower := strings.ToLower(kb.Prepare(text).Text)
	for _, o := range q.Options {
		for _, w := range o.Words {
			if containsWord(lower, w) {
				return kb.Platform(o.ID)
			}
		}
	}
	return ""
}

func containsWord(text, w string) bool {
	for _, f := range strings.FieldsFunc(text, func(r rune) bool {
		return r == ' ' || r == ',' || r == '.' || r == '!' || r == '?' || r == '\n' || r == '/'
	}) {
		if f == w {
			return true
		}
	}
	return false
}

// pickChoice reads "2", "#2" or "2." as the second choice.
func pickChoice(text string, choices []string) (string, bool) {
	s := strings.TrimSpace(kb.Prepare(text).Text)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "#"), ".")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > len(choices) {
		return "", false
	}
	return choices[n-1], true
}

func withLang(st State, lang kb.Lang) State {
	st.Lang = lang
	return st
}

// candidates lists what the JSON contract reports: the answer, the choices,
// or for the other kinds the best guesses that were not good enough.
func candidates(res *kb.Result, kind Kind) []Candidate {
	n := len(res.Candidates)
	switch kind {
	case KindAnswer:
		n = min(n, 1)
	case KindChoices:
		n = res.Choices
	default:
		n = min(n, 3)
	}
	out := make([]Candidate, 0, n)
	for _, c := range res.Candidates[:n] {
		out = append(out, Candidate{ID: c.Entry.ID, Score: c.Score})
	}
	return out
}

func (e *Engine) words(lang kb.Lang) Words {
	return Words{
		Steps:    e.word(lang, "Steps", nil),
		Note:     e.word(lang, "Note", nil),
		Source:   e.word(lang, "Source", nil),
		FollowUp: e.word(lang, "FollowUp", nil),
		Platform: e.word(lang, "Platform", nil),
	}
}

// word localizes one of the bot's messages.
func (e *Engine) word(lang kb.Lang, id string, data map[string]any) string {
	return e.wording.Get(lang, id, data)
}

// Welcome is the greeting of a terminal or chat conversation.
func (e *Engine) Welcome(lang kb.Lang) string {
	if !lang.Valid() {
		lang = e.lang
	}
	return e.word(lang, "ChatWelcome", nil)
}

// NewBuiltin returns an engine over the embedded catalog and wording, the
// configuration every entry point and test starts from.
func NewBuiltin(store Store, logger *slog.Logger) (*Engine, error) {
	cat, err := kb.LoadBuiltin()
	if err != nil {
		return nil, fmt.Errorf("load built-in catalog: %w", err)
	}
	bundle, err := locales.Bundle(locales.Files())
	if err != nil {
		return nil, fmt.Errorf("load wording: %w", err)
	}
	return New(Config{Matcher: kb.NewMatcher(cat), Bundle: bundle, Store: store, Logger: logger})
}

// Show names an answer to show again, as a button on it remembers it.
type Show struct {
	Entry string
	Lang  kb.Lang
	// Code is the error code the answer was asked with, if any.
	Code string
	// Causes are cause ids in the order they were shown; causes it does not
	// name follow in catalog order.
	Causes []string
	// Answers are checklist answers already given: those questions are not
	// asked again.
	Answers map[string]string
}

// Answer rebuilds the answer s names, touching no conversation: what a
// button on an answer (Other causes, Post to channel, a verdict) shows.
func (e *Engine) Answer(s Show) (Reply, error) {
	entry, ok := e.cat.Entry(s.Entry)
	if !ok {
		return Reply{}, fmt.Errorf("answer %q: the catalog has no such entry", s.Entry)
	}
	lang := s.Lang
	if !lang.Valid() {
		lang = e.lang
	}
	r := Reply{Kind: KindAnswer, Lang: lang, Words: e.words(lang),
		Candidates: []Candidate{{ID: entry.ID, Score: 1}}}
	r.Entry = e.entryView(lang, entry, causeOrder(entry, s.Causes))
	r.Questions = e.questions(lang, entry.Questions, s.Answers, entry.Platform)
	for _, m := range e.cat.FindCodes(s.Code) {
		if m.Code != nil {
			r.Code = e.codeView(lang, m, false)
			break
		}
	}
	return r, nil
}

// causeOrder lists the indexes of entry's causes with the ids named first,
// in their order, and the rest after them in catalog order.
func causeOrder(entry *kb.Entry, ids []string) []int {
	order := make([]int, 0, len(entry.Causes))
	used := make([]bool, len(entry.Causes))
	for _, id := range ids {
		for i, c := range entry.Causes {
			if c.ID == id && !used[i] {
				order = append(order, i)
				used[i] = true
			}
		}
	}
	for i := range entry.Causes {
		if !used[i] {
			order = append(order, i)
		}
	}
	return order
}
