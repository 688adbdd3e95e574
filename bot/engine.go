package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"

	"github.com/enrollbot/enrollbot/kb"
	"github.com/enrollbot/enrollbot/locales"
)

// Config wires an Engine.
type Config struct {
	Matcher *kb.Matcher
	// Bundle holds the bot's own wording (package locales).
	Bundle *i18n.Bundle
	// DefaultLang is the reply language when nothing else decides; English
	// when empty.
	DefaultLang kb.Lang
	// HandoffText says how to reach IT when no person can be reached
	// through the bot; a localized default when empty.
	HandoffText string
	// Desk reports that Sessions can hand a conversation to people (an
	// experts channel, a ticket): a request for a person then asks the
	// user to confirm, and the confirmation asks Sessions to send it.
	Desk bool
	// Logger receives wording that is missing in a language; discarded
	// when nil.
	Logger *slog.Logger
}

// Engine is the conversation: Respond maps a State and an Input to a Reply
// and the next State. It holds only what never changes after New (the
// catalog, its index, the wording), so it is safe for concurrent use and
// Respond does no I/O.
type Engine struct {
	m       *kb.Matcher
	cat     *kb.Catalog
	talk    *kb.Talk
	wording *Wording
	lang    kb.Lang
	handoff string
	desk    bool
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
		lang:    cfg.DefaultLang,
		handoff: strings.TrimSpace(cfg.HandoffText),
		desk:    cfg.Desk,
	}
	e.talk = e.cat.Talk
	if e.lang == "" {
		e.lang = kb.English
	}
	if !e.lang.Valid() {
		return nil, fmt.Errorf("bot: default language %q is not one of en, nl, sv, de", e.lang)
	}
	return e, nil
}

// NewBuiltin returns an engine over the embedded catalog and wording, the
// configuration every entry point and test starts from.
func NewBuiltin(logger *slog.Logger) (*Engine, error) {
	// The catalog and the wording load side by side: a one-off `ask`
	// waits for both.
	type loaded struct {
		cat *kb.Catalog
		err error
	}
	catc := make(chan loaded, 1)
	go func() {
		cat, err := kb.LoadBuiltin()
		catc <- loaded{cat, err}
	}()
	bundle, berr := locales.Builtin()
	l := <-catc
	if l.err != nil {
		return nil, fmt.Errorf("load built-in catalog: %w", l.err)
	}
	if berr != nil {
		return nil, fmt.Errorf("load wording: %w", berr)
	}
	return New(Config{Matcher: kb.NewMatcher(l.cat), Bundle: bundle, Logger: logger})
}

// WithHandoffText returns a copy of e that says text when no person can be
// reached through the bot.
func (e *Engine) WithHandoffText(text string) *Engine {
	c := *e
	c.handoff = strings.TrimSpace(text)
	return &c
}

// WithDesk returns a copy of e that hands conversations to people through
// Sessions' desk: a request for a person asks to confirm, and a
// confirmation carries a HandoffRequest.
func (e *Engine) WithDesk() *Engine {
	c := *e
	c.desk = true
	return &c
}

// DefaultLang is the language replies fall back to.
func (e *Engine) DefaultLang() kb.Lang { return e.lang }

// Wording returns the engine's localizer, which adapters share.
func (e *Engine) Wording() *Wording { return e.wording }

// Catalog returns the catalog the engine answers from.
func (e *Engine) Catalog() *kb.Catalog { return e.cat }

// Welcome is the greeting of a terminal or chat conversation.
func (e *Engine) Welcome(lang kb.Lang) string {
	if !lang.Valid() {
		lang = e.lang
	}
	return e.word(lang, "ChatWelcome", nil)
}

// Limited is the reply to a user over the rate limit: no matching, a short
// request to wait.
func (e *Engine) Limited(st State, in Input) Reply {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	return Reply{Kind: KindLimited, Lang: lang, Intro: e.word(lang, "RateLimited", nil), Words: e.words(lang)}
}

// Respond answers one input in a conversation whose state is st, and
// returns the reply and the conversation's next state. It is a pure
// function of its arguments and the engine's catalog: no I/O, no clock.
func (e *Engine) Respond(st State, in Input) (Reply, State) {
	st = st.clone()
	var r Reply
	switch in.Action {
	case ActPick:
		r, st = e.pick(st, in, in.Entry, "")
	case ActChoose:
		r, st = e.choose(st, in)
	case ActSolved:
		r, st = e.solved(st, in, in.Entry)
	case ActNotSolved:
		r, st = e.notSolved(st, in, in.Entry)
	case ActOtherCauses:
		r, st = e.otherCauses(st, in)
	case ActAllCauses:
		r, st = e.allCauses(st, in)
	case ActLang:
		r, st = e.switchLang(st, in, in.Lang)
	case ActPerson:
		r, st = e.person(st, in)
	case ActSummary:
		r, st = e.summary(st, in)
	case ActShow:
		r, st = e.show(st, in)
	case ActHandoffSend:
		r, st = e.sendHandoff(st, in)
	case ActHandoffCancel:
		r, st = e.cancelHandoff(st, in)
	default:
		r, st = e.message(st, in)
	}
	// A confirmation is asked for one turn: anything else the user says
	// next is not a "yes" to it.
	st.HandoffAsked = r.ConfirmHandoff
	r.Words = e.words(r.Lang)
	if r.Brief && r.Entry != nil && len(r.Entry.Causes) > 1 {
		r.Words.MoreCauses = e.word(r.Lang, "MoreCauses", map[string]any{"N": len(r.Entry.Causes) - 1})
	}
	// A chatter reply that a channel does not post leaves no state at all
	// (Sessions does not save it); one a direct chat shows is part of the
	// conversation like any other.
	st.Last = r.Kind
	st.Asked = nil
	for _, q := range r.Questions {
		st.Asked = append(st.Asked, q.ID)
	}
	if r.Kind == KindClarify {
		st.Clarified++
	} else {
		st.Clarified = 0
	}
	st.Lang = r.Lang
	r.Facts = st.Facts
	return r, st.bound()
}

// message answers a typed turn.
func (e *Engine) message(st State, in Input) (Reply, State) {
	q := kb.Prepare(in.Text)
	if q.Text == "" {
		lang := e.replyLang(in, kb.LangGuess{}, st)
		r := Reply{Kind: KindClarify, Lang: lang, Intro: e.word(lang, "ClarifyIntro", nil),
			Questions: e.clarifyQuestions(lang, st, nil), Chatter: st.active()}
		r.Notices = e.inputNotices(lang, q)
		return r, st
	}
	if lang, ok := e.talk.LanguageRequest(q.Text); ok {
		return e.switchLang(st, in, lang)
	}
	res := e.m.MatchQuery(q)

	// What the turn says about the checklist, in free text or as a direct
	// answer to what the bot just asked: whatever else it says, "we renewed
	// the token, still the same" also tells the token was renewed.
	learned := e.learn(&st, q.Text)

	// A short turn that is not a paste: an intent ("thanks", "that didn't
	// help", "can I talk to a person?").
	if im, ok := e.talk.ReadIntent(q.Text); ok && len(res.Codes) == 0 {
		if r, next, done := e.intent(st, in, im); done {
			if len(learned) > 0 && r.Kind == KindAnswer {
				r.Intro = strings.TrimSpace(e.noted(r.Lang, next, learned) + " " + r.Intro)
			}
			return r, next
		}
	}

	// A pick among the choices shown: a number, an ordinal word.
	if len(st.Choices) > 0 {
		if n, ok := e.talk.Ordinal(q.Text, len(st.Choices)); ok {
			return e.pick(st, in, st.Choices[n-1], "")
		}
	}

	if r, next, ok := e.outOfScope(st, in, q, res); ok {
		return r, next
	}

	// Details about the problem at hand continue it: only a new code, or a
	// confident match to another entry in a turn that is not about the
	// checklist, starts a new one.
	if st.active() && (!e.newProblem(st, res) || (len(learned) > 0 && !e.newCode(st, res))) {
		return e.followUp(st, in, q, res, learned)
	}
	return e.fresh(st, in, q, res)
}

// factChange is a fact a turn taught: the question, and the option it had
// before (empty when it was unknown).
type factChange struct{ q, was string }

// learn adds the turn's checklist facts to st and returns what it learned
// or changed, in checklist order: a later answer wins over an earlier one.
func (e *Engine) learn(st *State, text string) []factChange {
	found := e.cat.Facts(text)
	for q, o := range e.cat.AnswerTo(text, st.Asked, nil) {
		if found == nil {
			found = map[string]string{}
		}
		found[q] = o
	}
	var changed []factChange
	for _, q := range e.cat.Questions {
		o, ok := found[q.ID]
		if !ok || st.Facts[q.ID] == o {
			continue
		}
		if st.Facts == nil {
			st.Facts = map[string]string{}
		}
		changed = append(changed, factChange{q: q.ID, was: st.Facts[q.ID]})
		st.Facts[q.ID] = o
	}
	return changed
}

// intent acts on a conversational turn; done is false when the intent does
// not apply here (no answer to judge) and the turn is read as a message.
func (e *Engine) intent(st State, in Input, im kb.IntentMatch) (Reply, State, bool) {
	lang := e.intentLang(in, im, st)
	in.Lang = lang
	switch im.Intent {
	case kb.IntentGreeting:
		return e.smalltalk(lang, "Greeting", !st.active()), st, true
	case kb.IntentHelp:
		// Help says a person can be asked for; the button is that request.
		r := e.smalltalk(lang, "Help", false)
		r.OfferPerson = true
		return r, st, true
	case kb.IntentGoodbye:
		return e.smalltalk(lang, "Goodbye", true), st, true
	case kb.IntentThanks:
		if st.Entry != "" && st.Verdict == "" {
			r, next := e.solved(st, in, st.Entry)
			return r, next, true
		}
		r := e.smalltalk(lang, "ThanksWelcome", true)
		r.React = true
		return r, st, true
	case kb.IntentSolved:
		if st.Entry == "" {
			r := e.smalltalk(lang, "ThanksWelcome", true)
			r.React = true
			return r, st, true
		}
		r, next := e.solved(st, in, st.Entry)
		return r, next, true
	case kb.IntentNotSolved:
		if !st.active() {
			return Reply{}, st, false
		}
		r, next := e.notSolved(st, in, st.Entry)
		return r, next, true
	case kb.IntentOtherCauses:
		if !st.active() {
			return Reply{}, st, false
		}
		r, next := e.otherCauses(st, in)
		return r, next, true
	case kb.IntentAllCauses:
		if st.Entry == "" {
			return Reply{}, st, false
		}
		r, next := e.allCauses(st, in)
		return r, next, true
	case kb.IntentPerson:
		r, next := e.person(st, in)
		return r, next, true
	case kb.IntentSummary:
		r, next := e.summary(st, in)
		return r, next, true
	case kb.IntentConfirm:
		if !st.HandoffAsked {
			return Reply{}, st, false
		}
		r, next := e.sendHandoff(st, in)
		return r, next, true
	case kb.IntentDecline:
		if !st.HandoffAsked {
			return Reply{}, st, false
		}
		r, next := e.cancelHandoff(st, in)
		return r, next, true
	}
	return Reply{}, st, false
}

func (e *Engine) smalltalk(lang kb.Lang, id string, chatter bool) Reply {
	return Reply{Kind: KindSmalltalk, Lang: lang, Intro: e.word(lang, id, nil), Chatter: chatter}
}

// outOfScope answers a turn about what the catalog does not cover: an
// uncovered platform named (and no covered one), a set-up question, or a
// neighbouring subject no entry matched.
func (e *Engine) outOfScope(st State, in Input, q kb.Query, res *kb.Result) (Reply, State, bool) {
	sc := e.cat.ScopeOf(q.Text)
	var topic *kb.Topic
	switch {
	case sc.Platform != nil:
		topic = sc.Platform
	case sc.HowTo != nil && len(res.Codes) == 0:
		topic = sc.HowTo
	case sc.Subject != nil && !st.active() && len(res.Codes) == 0 && subjectWins(res, sc.SubjectProblem):
		topic = sc.Subject
	}
	if topic == nil {
		return Reply{}, st, false
	}
	lang := e.replyLang(in, res.Lang, st)
	name := topic.Name.In(lang)
	id := "OutOfScope"
	if topic.Kind == kb.TopicHowTo {
		id = "OutOfScopeHowTo"
	}
	r := Reply{Kind: KindOutOfScope, Lang: lang,
		Intro:       e.word(lang, id, map[string]any{"Topic": name}),
		Link:        &Link{Title: e.word(lang, "OutOfScopeLink", map[string]any{"Topic": name}), URL: topic.URL},
		OfferPerson: true}
	// Said unasked in a channel only when it answers something that looked
	// like an enrollment problem.
	r.Chatter = st.Last == "" && len(res.Codes) == 0 && (len(res.Candidates) == 0 || res.Candidates[0].Score < 0.3)
	next := State{Lang: lang, LangChosen: st.LangChosen, Facts: st.Facts, Topic: topic.ID}
	if topic.Kind == kb.TopicPlatform {
		// The platform fact the user gave is not one the checklist has.
		delete(next.Facts, "platform")
	}
	return r, next, true
}

// subjectScore is the text score a match needs to answer a turn that
// names a neighbouring subject (apps, compliance): below it, the subject is
// what the turn is about.
const subjectScore = 0.7

// problemScore is the score a match needs to answer a turn that states a
// subject's own failure ("VPP apps not installing after enrollment"): above
// what words scattered over an entry's text can score (the bag's weight),
// so only a matched message or symptom of an entry beats it.
const problemScore = kb.BagWeight + 0.01

// subjectWins reports whether a named subject outweighs the match; problem
// reports that the turn states the subject's own failure.
func subjectWins(res *kb.Result, problem bool) bool {
	if res.Outcome == kb.Clarify || res.Outcome == kb.CodeOnly {
		return true
	}
	top, ok := res.Top()
	if problem {
		return ok && top.Score < problemScore
	}
	return ok && top.Score < subjectScore
}

// newCode reports a code in the turn that the conversation has not seen.
func (e *Engine) newCode(st State, res *kb.Result) bool {
	for _, c := range res.Codes {
		if key := codeKey(c); key != "" && !slices.Contains(st.Codes, key) {
			return true
		}
	}
	return false
}

// newProblem reports whether a turn in an active conversation brings a new
// error: a code not seen before, or a confident match to another entry.
func (e *Engine) newProblem(st State, res *kb.Result) bool {
	if e.newCode(st, res) {
		return true
	}
	if res.Outcome == kb.Answer {
		top, _ := res.Top()
		return top.Entry.ID != st.Entry && !slices.Contains(st.Choices, top.Entry.ID)
	}
	if res.Outcome == kb.Choices && len(kb.Tokens(res.Query.Text)) > 8 {
		// A new paste that matches several entries, none of them this one.
		for _, c := range res.Candidates[:res.Choices] {
			if c.Entry.ID == st.Entry || slices.Contains(st.Choices, c.Entry.ID) {
				return false
			}
		}
		return true
	}
	return false
}

func codeKey(c kb.CodeMention) string {
	if h := c.Hex(); h != "" {
		return h
	}
	if c.Code != nil {
		return c.Code.Symbol
	}
	return ""
}

// followUp refines the current answer or choices with what the turn adds.
func (e *Engine) followUp(st State, in Input, q kb.Query, res *kb.Result, learned []factChange) (Reply, State) {
	lang := e.replyLang(in, res.Lang, st)
	in.Lang = lang
	st.Text = strings.TrimSpace(st.Text + "\n" + q.Text)

	if st.Entry == "" {
		// Choices are on the table: a few words of one pick it; a platform
		// narrows them.
		if id, ok := e.pickByWords(st, res, lang); ok {
			return e.pick(st, in, id, "")
		}
		if p := kb.Platform(st.Facts["platform"]); p != "" {
			var kept []string
			for _, id := range st.Choices {
				if entry, ok := e.cat.Entry(id); ok && entry.Platform == p {
					kept = append(kept, id)
				}
			}
			if len(kept) == 1 {
				return e.pick(st, in, kept[0], e.noted(lang, st, learned))
			}
			if len(kept) > 1 && len(kept) < len(st.Choices) {
				st.Choices = kept
			}
		}
		r := e.choicesReply(lang, st.Choices, nil)
		if len(learned) > 0 {
			r.Intro = e.noted(lang, st, learned) + " " + r.Intro
		} else {
			r.Chatter = true
		}
		r.Lang = lang
		return r, st
	}

	if entry, ok := e.cat.Entry(st.Entry); ok && len(e.cat.Narrow(entry, st.Facts, nil).Order) == 0 {
		// What the user said rules out every cause this entry knows: say so,
		// and move on to what else it could be.
		r, next := e.nothingLeft(st, in)
		intro := r.Intro
		if r.Kind == KindHandoff {
			// Said once: "rules out every cause", not also "run out".
			intro = strings.TrimPrefix(intro, e.word(lang, "NothingLeft", nil)+" ")
		}
		r.Intro = e.noted(lang, st, learned) + " " + e.word(lang, "RuledOutAll", nil) + " " + intro
		return r, next
	}
	before := st.Causes
	prev := st
	prev.Facts = maps.Clone(st.Facts)
	for _, c := range learned {
		if c.was == "" {
			delete(prev.Facts, c.q)
		} else {
			prev.Facts[c.q] = c.was
		}
	}
	beforeOut := e.ruledOut(prev)
	r, next := e.answerEntry(st, in, st.Entry, nil)
	changed := len(before) > 0 && len(next.Causes) > 0 && before[0] != next.Causes[0]
	r.Brief = true
	var say []string
	if len(learned) > 0 {
		say = append(say, e.noted(lang, next, learned))
	}
	var newlyOut []string
	for _, ro := range r.RuledOut {
		if !slices.Contains(beforeOut, ro.ID) {
			newlyOut = append(newlyOut, strings.TrimRight(ro.Text, ". "))
		}
	}
	if len(newlyOut) > 0 {
		say = append(say, e.word(lang, "RuledOutNow", map[string]any{"Causes": strings.Join(newlyOut, " / ")}))
	}
	switch {
	case changed:
		say = append(say, e.word(lang, "NowMostLikely", map[string]any{"Cause": r.Entry.Causes[0].Summary}))
	case len(learned) > 0 || len(newlyOut) > 0:
		say = append(say, e.word(lang, "StillMostLikely", nil))
	default:
		// Nothing the bot could use: a remark in the thread, or details it
		// does not know how to weigh. Said in a direct chat, silent in a
		// channel.
		say = append(say, e.word(lang, "NotedDetail", nil))
		r.Chatter = true
	}
	if entry, ok := e.cat.Entry(next.Entry); ok && len(entry.Causes) > 1 && len(next.Causes) == 1 {
		// Narrowed down to one cause: nothing more to ask.
		say = append(say, e.word(lang, "DidItFix", nil))
	}
	r.Intro = strings.Join(say, " ")
	return r, next
}

// ruledOut lists the ids of the causes st's facts rule out for its entry.
func (e *Engine) ruledOut(st State) []string {
	entry, ok := e.cat.Entry(st.Entry)
	if !ok {
		return nil
	}
	var out []string
	for _, ro := range e.cat.Narrow(entry, st.Facts, nil).RuledOut {
		out = append(out, entry.Causes[ro.Cause].ID)
	}
	return out
}

// pickByWords picks the choice the turn's words name ("the not allowed to
// enroll one"): the one whose title shares the most words with the turn,
// when one clearly does, else the one the matcher clearly prefers.
func (e *Engine) pickByWords(st State, res *kb.Result, lang kb.Lang) (string, bool) {
	toks := e.talk.ContentTokens(res.Query.Text)
	bestN, secondN, bestID := 0, 0, ""
	for _, id := range st.Choices {
		entry, ok := e.cat.Entry(id)
		if !ok {
			continue
		}
		title := map[string]bool{}
		for _, l := range []kb.Lang{lang, kb.English} {
			for _, w := range e.talk.ContentTokens(entry.Title.In(l)) {
				title[w] = true
			}
		}
		n := 0
		for _, w := range toks {
			if title[w] {
				n++
			}
		}
		switch {
		case n > bestN:
			secondN, bestN, bestID = bestN, n, id
		case n > secondN:
			secondN = n
		}
	}
	if bestN >= 2 && bestN > secondN {
		return bestID, true
	}
	var best, second float64
	id := ""
	for _, c := range res.Candidates {
		if !slices.Contains(st.Choices, c.Entry.ID) {
			continue
		}
		switch {
		case c.Score > best:
			second, best, id = best, c.Score, c.Entry.ID
		case c.Score > second:
			second = c.Score
		}
	}
	return id, id != "" && best >= 0.35 && best-second >= 0.1
}

// noted says what the conversation learned ("Noted: all users (was: one
// user), ADE.").
func (e *Engine) noted(lang kb.Lang, st State, learned []factChange) string {
	var labels []string
	for _, c := range learned {
		l := e.factLabel(lang, c.q, st.Facts[c.q])
		if l == "" {
			continue
		}
		if c.was != "" {
			l += " " + e.word(lang, "NotedWas", map[string]any{"Was": e.factLabel(lang, c.q, c.was)})
		}
		labels = append(labels, l)
	}
	if len(labels) == 0 {
		return e.word(lang, "NotedDetail", nil)
	}
	return e.word(lang, "Noted", map[string]any{"Facts": strings.Join(labels, ", ")})
}

func (e *Engine) factLabel(lang kb.Lang, qid, oid string) string {
	q, ok := e.cat.Question(qid)
	if !ok {
		return ""
	}
	for _, o := range q.Options {
		if o.ID == oid {
			if len(q.Short) > 0 {
				return q.Short.In(lang) + ": " + o.Label.In(lang)
			}
			return o.Label.In(lang)
		}
	}
	return ""
}

// fresh answers a turn that starts a problem, or continues one the bot was
// unsure about.
func (e *Engine) fresh(st State, in Input, q kb.Query, res *kb.Result) (Reply, State) {
	// A clarification continues what the user said before.
	if !st.active() && st.Text != "" && (res.Outcome == kb.Clarify || res.Outcome == kb.CodeOnly) {
		combined := e.m.MatchQuery(kb.Prepare(st.Text + "\n" + q.Text))
		if combined.Outcome == kb.Answer || combined.Outcome == kb.Choices {
			res = combined
		}
	}
	platform := kb.Platform(st.Facts["platform"])
	e.m.Constrain(res, platform)

	lang := e.replyLang(in, res.Lang, st)
	in.Lang = lang
	next := State{Lang: lang, LangChosen: st.LangChosen, Facts: st.Facts, Shown: st.Shown, Clarified: st.Clarified,
		Error: st.Error, Text: st.Text}
	// The error is what placed the problem: the turn that matched, not an
	// earlier vague description ("we have a problem with Autopilot").
	placed := res.Outcome == kb.Answer || res.Outcome == kb.Choices || res.Outcome == kb.CodeOnly
	if next.Error == "" || st.active() || (placed && st.Last == KindClarify) {
		next.Error = q.Text
	}
	if st.active() {
		// A new problem: what was said about the old one is not evidence.
		next.Text = ""
	}
	for _, c := range res.Codes {
		if len(next.Codes) >= maxStateList {
			break
		}
		next.Codes = addUnique(next.Codes, codeKey(c))
	}

	var r Reply
	switch res.Outcome {
	case kb.Answer:
		top, _ := res.Top()
		next.Text = q.Text
		next.Related = related(res, top.Entry)
		r, next = e.answerEntry(next, in, top.Entry.ID, res)
	case kb.Choices:
		ids := make([]string, res.Choices)
		for i := range ids {
			ids[i] = res.Candidates[i].Entry.ID
		}
		next.Text = q.Text
		r = e.choicesReply(lang, ids, e.codeOf(lang, res))
		next.Choices = ids
		// Lukewarm choices from words alone are worth offering to someone
		// who asked, not worth interrupting a channel for.
		if top, _ := res.Top(); len(res.Codes) == 0 && top.Score < channelChoiceScore {
			r.Chatter = true
		}
	case kb.CodeOnly:
		r = Reply{Kind: KindCode, Lang: lang, Code: e.codeOf(lang, res), OfferPerson: true}
	default:
		next.Text = strings.TrimSpace(st.Text + "\n" + q.Text)
		r = e.clarify(lang, st, next, res)
	}
	r.Lang = lang
	r.Notices = append(e.inputNotices(lang, q), r.Notices...)
	if r.Kind == KindAnswer && r.Entry != nil {
		// Say what pointed to the answer when it was a signal (an event
		// id, a sub-code), not the text the user can see matched.
		for _, s := range res.Signals {
			if s.Entry.ID == r.Entry.ID {
				r.Notices = append(r.Notices, e.word(lang, "SignalNotice", map[string]any{"Signal": s.Raw}))
				break
			}
		}
	}
	if r.Candidates == nil {
		r.Candidates = candidates(res, r.Kind)
	}
	return r, next
}

// channelChoiceScore is the least score of the best choice for choices to
// be offered where the bot was not asked (a channel): below it, a remark
// that happens to share words with entries ("the build is green again").
const channelChoiceScore = 0.45

// relatedScore is the least score of an entry offered as related: below
// it, a word in common, not a lead worth following.
const relatedScore = 0.3

// related lists the other candidates of the match on top's platform: what
// to offer when top's causes run out.
func related(res *kb.Result, top *kb.Entry) []string {
	var out []string
	for _, c := range res.Candidates {
		if c.Entry.ID != top.ID && c.Entry.Platform == top.Platform && c.Score >= relatedScore && len(out) < 3 {
			out = append(out, c.Entry.ID)
		}
	}
	return out
}

// clarify asks instead of guessing. The same block is never sent twice in
// a row: the second time it offers the closest entries, or asks what the
// first did not.
func (e *Engine) clarify(lang kb.Lang, prev, next State, res *kb.Result) Reply {
	r := Reply{Kind: KindClarify, Lang: lang, Intro: e.word(lang, "ClarifyIntro", nil), OfferPerson: prev.Clarified > 0}
	if unknown, ok := res.UnknownCode(); ok {
		r.Notices = append(r.Notices, e.word(lang, "CodeUnknownAsk", map[string]any{"Code": unknown.Hex()}))
	}
	switch {
	case prev.Last == KindClarify && prev.Clarified >= 3:
		r, _ := e.person(prev, Input{Lang: lang})
		return r
	case prev.Last == KindClarify && prev.Clarified == 2:
		r.Intro = e.word(lang, "ClarifyGiveUp", nil)
		r.OfferPerson = true
		return r
	case prev.Last == KindClarify:
		var ids []string
		for _, c := range res.Candidates {
			if c.Score >= 0.15 && len(ids) < 3 {
				ids = append(ids, c.Entry.ID)
			}
		}
		if len(ids) >= 2 {
			c := e.choicesReply(lang, ids, nil)
			c.Intro = e.word(lang, "ClarifyClosest", nil)
			c.Notices = r.Notices
			c.OfferPerson = true
			return c
		}
		r.Intro = e.word(lang, "ClarifyNarrower", nil)
		r.Questions = e.questions(lang, []string{"where-shown", "when-started", "enrollment-method", "users-affected"},
			next.Facts, kb.Platform(next.Facts["platform"]))
		return r
	}
	r.Questions = e.clarifyQuestions(lang, next, res)
	return r
}

// pick answers with entry id, chosen by the user; noted is what the turn
// taught, said first.
func (e *Engine) pick(st State, in Input, id, noted string) (Reply, State) {
	if _, ok := e.cat.Entry(id); !ok {
		lang := e.replyLang(in, kb.LangGuess{}, st)
		return e.clarify(lang, st, st, &kb.Result{}), st
	}
	if st.Entry != id {
		st.Causes, st.Tried, st.Verdict = nil, nil, ""
	}
	others := slices.DeleteFunc(slices.Clone(st.Choices), func(c string) bool { return c == id })
	r, next := e.answerEntry(st, in, id, nil)
	// The other choices stay at hand: if this one does not help, they are
	// what comes next.
	next.Related = addUnique(others, next.Related...)
	if noted != "" {
		r.Intro = noted
	}
	return r, next
}

// choose records the answer to a checklist question (a button).
func (e *Engine) choose(st State, in Input) (Reply, State) {
	q, ok := e.cat.Question(in.Question)
	valid := ok && slices.ContainsFunc(q.Options, func(o kb.Option) bool { return o.ID == in.Option })
	if !valid {
		r, next := e.show(st, in)
		return r, next
	}
	var learned []factChange
	if st.Facts[in.Question] != in.Option {
		if st.Facts == nil {
			st.Facts = map[string]string{}
		}
		learned = []factChange{{q: in.Question, was: st.Facts[in.Question]}}
		st.Facts[in.Question] = in.Option
	}
	lang := e.replyLang(in, kb.LangGuess{}, st)
	in.Lang = lang
	if !st.active() {
		// Before any answer: the option narrows what the user said before.
		if st.Text != "" {
			label := e.factLabel(lang, in.Question, in.Option)
			return e.message(st, Input{Text: label, Lang: lang, Locale: in.Locale})
		}
		r := e.smalltalk(lang, "NotedAsk", false)
		r.Intro = e.noted(lang, st, learned) + " " + r.Intro
		return r, st
	}
	r, next := e.followUp(st, in, kb.Query{}, &kb.Result{}, learned)
	r.Chatter = false
	return r, next
}

// answerEntry builds the answer for entry id from what st knows; res is
// the match that led to it, nil when the user picked it.
func (e *Engine) answerEntry(st State, in Input, id string, res *kb.Result) (Reply, State) {
	entry, ok := e.cat.Entry(id)
	if !ok {
		// An id from an old button or an older catalog.
		lang := e.replyLang(in, kb.LangGuess{}, st)
		st.Entry = ""
		return e.clarify(lang, st, st, &kb.Result{}), st
	}
	guess := kb.LangGuess{}
	if res != nil {
		guess = res.Lang
	}
	lang := e.replyLang(in, guess, st)
	if st.Entry != entry.ID {
		st.Causes, st.Tried, st.Verdict = nil, nil, ""
	}
	st.Entry = entry.ID
	st.Choices = nil
	st.Shown = addUnique(st.Shown, entry.ID)
	order, out := e.rankCauses(entry, st, lang)
	st.Causes = causeIDs(entry, order)

	r := Reply{Kind: KindAnswer, Lang: lang, OfferPerson: len(st.Tried) > 0}
	r.Entry = e.entryView(lang, entry, order)
	r.Causes = causeRefs(r.Entry)
	for _, ro := range out {
		var because []string
		for _, q := range ro.Because {
			because = append(because, e.factLabel(lang, q, st.Facts[q]))
		}
		c := entry.Causes[ro.Cause]
		r.RuledOut = append(r.RuledOut, RuledOutCause{ID: c.ID, Text: c.Summary.In(lang), Because: strings.Join(because, ", ")})
	}
	asked := e.cat.Separating(entry, order, st.Facts)
	if len(entry.Causes) > 1 && len(asked) > maxQuestions {
		asked = asked[:maxQuestions]
	}
	r.Questions = e.questions(lang, asked, st.Facts, entry.Platform)
	if res != nil {
		r.Code = e.codeOf(lang, res)
	} else {
		r.Candidates = []Candidate{{ID: entry.ID, Score: 1}}
		for _, c := range st.Codes {
			if code := e.codeByKey(lang, c); code != nil {
				r.Code = code
				break
			}
		}
	}
	for _, rid := range st.Related {
		if re, ok := e.cat.Entry(rid); ok && rid != entry.ID {
			r.Choices = append(r.Choices, Choice{N: len(r.Choices) + 1, ID: re.ID, Title: re.Title.In(lang), Platform: re.Platform})
		}
	}
	return r, st
}

// maxQuestions bounds the follow-up questions of an answer: the ones that
// best separate the causes in play, not the whole checklist.
const maxQuestions = 2

// rankCauses orders the entry's causes for what the conversation knows:
// the causes' rules applied to the facts (kb.Narrow), then the user's
// words, then the catalog's order. Causes the facts rule out, and those the
// user tried, leave the list; when nothing would be left, the answer keeps
// them all.
func (e *Engine) rankCauses(entry *kb.Entry, st State, lang kb.Lang) ([]int, []kb.RuledOut) {
	langs := []kb.Lang{kb.English}
	if lang != kb.English && lang.Valid() {
		langs = append(langs, lang)
	}
	byWords := e.m.RankCauses(entry, st.Text, langs...)
	n := e.cat.Narrow(entry, st.Facts, byWords)
	left := slices.DeleteFunc(slices.Clone(n.Order), func(i int) bool { return slices.Contains(st.Tried, entry.Causes[i].ID) })
	if len(left) == 0 {
		// Nothing left in play: the answer keeps its causes, and says
		// which the facts ruled out.
		return byWords, n.RuledOut
	}
	return left, n.RuledOut
}

func causeIDs(entry *kb.Entry, order []int) []string {
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = entry.Causes[k].ID
	}
	return out
}

func causeRefs(v *Entry) []CauseRef {
	out := make([]CauseRef, 0, len(v.Causes))
	for _, c := range v.Causes {
		out = append(out, CauseRef{ID: c.ID, Text: c.Summary})
	}
	return out
}

// solved records that the answer fixed it.
func (e *Engine) solved(st State, in Input, entry string) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	if entry == "" {
		entry = st.Entry
	}
	r := Reply{Kind: KindSmalltalk, Lang: lang, Intro: e.word(lang, "SolvedThanks", nil), React: true}
	if _, known := e.cat.Entry(entry); known {
		r.Verdict = &Verdict{Entry: entry, Solved: true}
	}
	st.Verdict = "solved"
	return r, st
}

// notSolved records that the answer did not help and offers what is left:
// the next cause in play, then the other choices or related entries, then
// a person.
func (e *Engine) notSolved(st State, in Input, entry string) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	in.Lang = lang
	if _, known := e.cat.Entry(entry); !known || (st.Entry != "" && entry != st.Entry) {
		entry = st.Entry
	}
	verdict := &Verdict{Entry: entry}
	st.Verdict = "not_solved"
	if entry != "" && st.Entry == "" {
		// A button on an answer whose conversation expired.
		_, st = e.answerEntry(st, in, entry, nil)
	}
	if st.Entry == "" {
		r, next := e.nothingLeft(st, in)
		return r, next
	}
	if len(st.Causes) > 0 {
		st.Tried = addUnique(st.Tried, st.Causes[0])
	}
	if e.allTried(st) {
		n, s := e.nothingLeft(st, in)
		n.Verdict = verdict
		return n, s
	}
	r, next := e.answerEntry(st, in, st.Entry, nil)
	r.Verdict = verdict
	next.Verdict = "not_solved"
	if r.Entry == nil || len(r.Entry.Causes) == 0 {
		n, s := e.nothingLeft(next, in)
		n.Verdict = verdict
		return n, s
	}
	r.Brief = true
	r.OfferPerson = true
	r.Intro = e.word(lang, "NextCause", map[string]any{"Cause": r.Entry.Causes[0].Summary})
	return r, next
}

// allTried reports whether the user tried every cause of the entry.
func (e *Engine) allTried(st State) bool {
	entry, ok := e.cat.Entry(st.Entry)
	if !ok {
		return true
	}
	for _, c := range entry.Causes {
		if !slices.Contains(st.Tried, c.ID) {
			return false
		}
	}
	return true
}

// nothingLeft is the reply when the entry's causes ran out: the other
// choices or related entries, else a person.
func (e *Engine) nothingLeft(st State, in Input) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	var ids []string
	for _, id := range append(slices.Clone(st.Related), st.Choices...) {
		if id != st.Entry && !slices.Contains(st.Shown, id) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		r := e.choicesReply(lang, ids[:min(len(ids), 4)], nil)
		r.Intro = e.word(lang, "NoCausesLeft", nil)
		r.OfferPerson = true
		st.Choices = ids[:min(len(ids), 4)]
		st.Entry = ""
		return r, st
	}
	r, next := e.person(st, in)
	r.Intro = e.word(lang, "NothingLeft", nil) + " " + r.Intro
	return r, next
}

// otherCauses shows the causes still in play after the first, and the
// related entries.
func (e *Engine) otherCauses(st State, in Input) (Reply, State) {
	if st.Entry == "" {
		if len(st.Choices) > 0 {
			lang := e.replyLang(in, kb.LangGuess{}, st)
			return e.choicesReply(lang, st.Choices, nil), st
		}
		return e.nothingLeft(st, in)
	}
	r, next := e.answerEntry(st, in, st.Entry, nil)
	if r.Entry == nil || len(r.Entry.Causes) < 2 || e.allTried(st) {
		return e.nothingLeft(next, in)
	}
	rest := r.Entry.Causes[1:]
	r.Entry.Causes = rest
	r.Causes = causeRefs(r.Entry)
	r.Intro = e.word(r.Lang, "OtherCausesIntro", map[string]any{"N": len(rest)})
	r.OfferPerson = true
	return r, next
}

// allCauses shows the whole answer: every cause still in play.
func (e *Engine) allCauses(st State, in Input) (Reply, State) {
	if st.Entry == "" {
		return e.show(st, in)
	}
	return e.answerEntry(st, in, st.Entry, nil)
}

// show repeats the conversation's current reply.
func (e *Engine) show(st State, in Input) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	switch {
	case st.Entry != "":
		return e.answerEntry(st, in, st.Entry, nil)
	case len(st.Choices) > 0:
		return e.choicesReply(lang, st.Choices, nil), st
	case in.Entry != "":
		return e.pick(st, in, in.Entry, "")
	}
	return e.smalltalk(lang, "Greeting", false), st
}

// switchLang makes lang the conversation's language and shows the current
// reply in it.
func (e *Engine) switchLang(st State, in Input, lang kb.Lang) (Reply, State) {
	if !lang.Valid() {
		cur := e.replyLang(in, kb.LangGuess{}, st)
		return e.smalltalk(cur, "LangUsage", false), st
	}
	st.Lang, st.LangChosen = lang, true
	in.Lang = lang
	r, next := e.show(st, in)
	if !st.active() {
		r = e.smalltalk(lang, "LangSet", false)
	} else {
		r.Intro = e.word(lang, "LangSet", nil)
	}
	r.Lang = lang
	r.SetLang = lang
	return r, next
}

// person hands the conversation to a person. With a desk, it shows what
// would be sent and asks the user to confirm: nothing the user wrote goes
// to people before they agree. Without one, it gives the summary to copy
// and how to reach IT.
func (e *Engine) person(st State, in Input) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	if e.desk {
		id := "HandoffConfirm"
		if st.Ticket != "" {
			id = "HandoffConfirmAdd"
		}
		return Reply{Kind: KindHandoff, Lang: lang, Intro: e.word(lang, id, map[string]any{"Ticket": st.Ticket}),
			Summary: e.summaryText(lang, st), ConfirmHandoff: true}, st
	}
	return e.noDesk(lang, st), st
}

// noDesk is the hand-off without a desk: the summary and how to reach IT.
func (e *Engine) noDesk(lang kb.Lang, st State) Reply {
	text := e.handoff
	if text == "" {
		text = e.word(lang, "HandoffNone", nil)
	}
	return Reply{Kind: KindHandoff, Lang: lang, Intro: text, Summary: e.summaryText(lang, st)}
}

// sendHandoff is the user's confirmation: the reply carries the request
// for Sessions to send, and says it is being sent; Sessions replaces the
// intro with the ticket reference, or with how to reach IT when sending
// failed.
func (e *Engine) sendHandoff(st State, in Input) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	if !e.desk {
		return e.noDesk(lang, st), st
	}
	req := &HandoffRequest{Ticket: st.Ticket, Lang: lang, Summary: e.summaryText(lang, st),
		Error: st.Error, Codes: slices.Clone(st.Codes), Entry: st.Entry, Shown: slices.Clone(st.Shown),
		Facts: maps.Clone(st.Facts), Tried: slices.Clone(st.Tried)}
	return Reply{Kind: KindHandoff, Lang: lang, Intro: e.word(lang, "HandoffSending", nil), Handoff: req}, st
}

// cancelHandoff is the user's "no": nothing is sent.
func (e *Engine) cancelHandoff(st State, in Input) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	return e.smalltalk(lang, "HandoffCancelled", false), st
}

// HandoffSent is the intro of a hand-off that reached people as ticket t:
// added to an open ticket, or opened; when t relays, the user is told that
// what they write next reaches people too.
func (e *Engine) HandoffSent(lang kb.Lang, t Ticket) string {
	ref := t.Ref
	id := "HandoffSent"
	switch {
	case t.Added:
		id = "HandoffAdded"
	case t.Relays:
		id = "HandoffSentRelay"
	}
	return e.word(lang, id, map[string]any{"Ticket": ref})
}

// HandoffFailed is the intro of a hand-off that could not be sent: the
// failure said plainly (that it is kept and retried, when pending), and
// how to reach IT.
func (e *Engine) HandoffFailed(lang kb.Lang, pending bool) string {
	text := e.handoff
	if text == "" {
		text = e.word(lang, "HandoffNone", nil)
	}
	id := "HandoffFailed"
	if pending {
		id = "HandoffPending"
	}
	return e.word(lang, id, nil) + " " + text
}

// summary sums the conversation up.
func (e *Engine) summary(st State, in Input) (Reply, State) {
	lang := e.replyLang(in, kb.LangGuess{}, st)
	return Reply{Kind: KindSummary, Lang: lang, Intro: e.word(lang, "SummaryIntro", nil),
		Summary: e.summaryText(lang, st), OfferPerson: true}, st
}

// Unmark drops the catalog's markup (**labels**, `code`): a summary is
// plain text for a ticket or a chat that renders markup its own way.
func Unmark(s string) string {
	return strings.NewReplacer("**", "", "`", "").Replace(s)
}

// summaryText is the plain-text summary a ticket needs.
func (e *Engine) summaryText(lang kb.Lang, st State) string {
	if st.Error == "" && len(st.Shown) == 0 && st.Topic == "" {
		return e.word(lang, "SummaryEmpty", nil)
	}
	var b strings.Builder
	line := func(label, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\n", e.word(lang, label, nil), Unmark(value))
		}
	}
	line("SummaryError", strings.Join(strings.Fields(st.Error), " "))
	line("SummaryCodes", strings.Join(st.Codes, ", "))
	platform := st.Facts["platform"]
	if platform == "" && st.Entry != "" {
		if entry, ok := e.cat.Entry(st.Entry); ok {
			platform = string(entry.Platform)
		}
	}
	if platform != "" {
		line("SummaryPlatform", kb.Platform(platform).Name())
	}
	if st.Topic != "" {
		if t, ok := e.cat.Topic(st.Topic); ok {
			line("SummaryTopic", t.Name.In(lang))
		}
	}
	var facts []string
	for _, q := range e.cat.Questions {
		if o, ok := st.Facts[q.ID]; ok && q.ID != "platform" {
			facts = append(facts, e.factLabel(lang, q.ID, o))
		}
	}
	line("SummaryFacts", strings.Join(facts, "; "))
	var shown []string
	for _, id := range st.Shown {
		if entry, ok := e.cat.Entry(id); ok {
			shown = append(shown, entry.Title.In(lang)+" ("+id+")")
		}
	}
	line("SummaryShown", strings.Join(shown, "; "))
	if entry, ok := e.cat.Entry(st.Entry); ok {
		var tried []string
		for _, c := range entry.Causes {
			if slices.Contains(st.Tried, c.ID) {
				tried = append(tried, c.Summary.In(lang))
			}
		}
		line("SummaryTried", strings.Join(tried, " | "))
	}
	if entry, ok := e.cat.Entry(st.Entry); ok {
		var out []string
		for _, ro := range e.cat.Narrow(entry, st.Facts, nil).RuledOut {
			var because []string
			for _, q := range ro.Because {
				because = append(because, e.factLabel(lang, q, st.Facts[q]))
			}
			out = append(out, entry.Causes[ro.Cause].Summary.In(lang)+" ("+strings.Join(because, ", ")+")")
		}
		line("SummaryRuledOut", strings.Join(out, " | "))
	}
	if entry, ok := e.cat.Entry(st.Entry); ok && st.Verdict != "solved" {
		line("SummaryCollect", strings.Join(entry.Collect.In(lang), " | "))
	}
	switch st.Verdict {
	case "solved":
		line("SummaryVerdict", e.word(lang, "VerdictSolved", nil))
	case "not_solved":
		line("SummaryVerdict", e.word(lang, "VerdictNotSolved", nil))
	}
	line("SummaryLang", string(lang))
	return strings.TrimRight(b.String(), "\n")
}

func (e *Engine) choicesReply(lang kb.Lang, ids []string, code *Code) Reply {
	r := Reply{Kind: KindChoices, Lang: lang, Code: code,
		Intro: e.word(lang, "ChoicesPrompt", nil), Hint: e.word(lang, "ChoicesHint", nil)}
	for i, id := range ids {
		entry, ok := e.cat.Entry(id)
		if !ok {
			continue
		}
		r.Choices = append(r.Choices, Choice{N: i + 1, ID: entry.ID, Title: entry.Title.In(lang), Platform: entry.Platform})
		r.Candidates = append(r.Candidates, Candidate{ID: entry.ID})
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
	v := &Entry{ID: entry.ID, Title: entry.Title.In(lang), Platform: entry.Platform, SourceURL: entry.Source.URL,
		Collect: entry.Collect.In(lang)}
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

// clarifyQuestions asks the checklist's key questions that are still open.
func (e *Engine) clarifyQuestions(lang kb.Lang, st State, res *kb.Result) []Question {
	var ids []string
	for _, q := range e.cat.KeyQuestions() {
		if q.ID == "platform" && res != nil && res.Platform != "" {
			continue
		}
		ids = append(ids, q.ID)
	}
	return e.questions(lang, ids, st.Facts, kb.Platform(st.Facts["platform"]))
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

// codeByKey describes a code the conversation saw.
func (e *Engine) codeByKey(lang kb.Lang, key string) *Code {
	for _, m := range e.cat.FindCodes(key) {
		if m.Code != nil {
			return e.codeView(lang, m, false)
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

func (e *Engine) inputNotices(lang kb.Lang, q kb.Query) []string {
	var out []string
	if q.Text == "" {
		out = append(out, e.word(lang, "NoticeEmpty", nil))
	}
	if q.Truncated {
		out = append(out, e.word(lang, "NoticeTruncated", map[string]any{"N": kb.MaxPasteRunes}))
	}
	if q.InvalidUTF8 {
		out = append(out, e.word(lang, "NoticeInvalidUTF8", nil))
	}
	return out
}

// minSwitchScore is the language evidence a turn needs to move a
// conversation to another language: two telling words, not one.
const minSwitchScore = 1.5

// replyLang decides the reply language: a language the user chose in this
// conversation, then an explicit choice (flag, saved preference), then the
// language the user writes in (unless all they "wrote" is an English device
// message, or the evidence is thin and the conversation has a language),
// then the conversation's language, then the client's locale, then the
// default.
func (e *Engine) replyLang(in Input, g kb.LangGuess, st State) kb.Lang {
	if st.LangChosen && st.Lang.Valid() {
		return st.Lang
	}
	if in.Lang.Valid() {
		return in.Lang
	}
	locale, localeOK := kb.LangFromLocale(in.Locale)
	if g.Lang != "" && !(g.DeviceOnly && ((localeOK && locale != kb.English) || st.Lang.Valid())) &&
		(!st.Lang.Valid() || g.Score >= minSwitchScore) {
		return g.Lang
	}
	if st.Lang.Valid() {
		return st.Lang
	}
	if localeOK {
		return locale
	}
	if in.Locale != "" {
		return kb.English
	}
	return e.lang
}

// intentLang is the language of a short social turn: the conversation's,
// else the one of its phrase that the locale agrees with ("hallo" is Dutch
// and German), else the phrase's if only one language has it.
func (e *Engine) intentLang(in Input, im kb.IntentMatch, st State) kb.Lang {
	if (st.LangChosen || in.Lang.Valid()) || st.Lang.Valid() {
		return e.replyLang(in, kb.LangGuess{}, st)
	}
	if locale, ok := kb.LangFromLocale(in.Locale); ok && slices.Contains(im.Langs, locale) {
		return locale
	}
	if len(im.Langs) == 1 {
		return im.Langs[0]
	}
	return e.replyLang(in, kb.LangGuess{}, st)
}

// candidates lists what the JSON contract reports: the answer, the choices,
// or for the other kinds the best guesses that were not good enough.
func candidates(res *kb.Result, kind Kind) []Candidate {
	n := len(res.Candidates)
	switch kind {
	case KindAnswer:
		n = min(n, 1)
	case KindChoices:
		n = min(n, max(res.Choices, 1))
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
		Steps:       e.word(lang, "Steps", nil),
		Note:        e.word(lang, "Note", nil),
		Source:      e.word(lang, "Source", nil),
		FollowUp:    e.word(lang, "FollowUp", nil),
		Platform:    e.word(lang, "Platform", nil),
		AllCauses:   e.word(lang, "ActionAllCauses", nil),
		OtherCauses: e.word(lang, "ActionOtherCauses", nil),
		Related:     e.word(lang, "RelatedEntries", nil),
		RuledOut:    e.word(lang, "SummaryRuledOut", nil),
		Because:     e.word(lang, "RuledOutBecause", nil),
		Collect:     e.word(lang, "CollectHeading", nil),
		Person:      e.word(lang, "ActionPerson", nil),
		Send:        e.word(lang, "ActionSend", nil),
		Cancel:      e.word(lang, "ActionCancel", nil),
		Solved:      e.word(lang, "ActionSolved", nil),
		NotSolved:   e.word(lang, "ActionNotSolved", nil),
	}
}

// word localizes one of the bot's messages.
func (e *Engine) word(lang kb.Lang, id string, data map[string]any) string {
	return e.wording.Get(lang, id, data)
}
