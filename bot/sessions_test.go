package bot_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/internal/bottest"
	"github.com/enrollbot/enrollbot/kb"
)

type kit struct {
	s     *bot.Sessions
	count *bottest.Counter
	store *bot.MemoryStore
	prefs *bot.MemoryPreferences
	fb    *bot.MemoryFeedback
	unans *bot.MemoryUnanswered
}

func newKit(t *testing.T) kit {
	t.Helper()
	k := kit{count: &bottest.Counter{}, store: bot.NewMemoryStore(), prefs: bot.NewMemoryPreferences(),
		fb: bot.NewMemoryFeedback(), unans: bot.NewMemoryUnanswered()}
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: newEngine(t), Store: k.store, Preferences: k.prefs,
		Limiter: k.count, Unanswered: k.unans, Feedback: k.fb, Observer: k.count})
	if err != nil {
		t.Fatal(err)
	}
	k.s = s
	return k
}

func (k kit) say(key, textIn string, quiet bool) bot.Outcome {
	return k.s.Handle(context.Background(), bot.Turn{Key: key, User: "u1", Input: bot.Input{Text: textIn}, Quiet: quiet})
}

// countOf is what the counter counted: limiter calls and replies.
func countOf(c *bottest.Counter) [2]int {
	a, r := c.Counts()
	return [2]int{a, len(r)}
}

func TestSessionsCountOncePerTurn(t *testing.T) {
	k := newKit(t)
	k.say("c", "0x80180014", false)
	k.say("c", "all users", false)
	if countOf(k.count) != [2]int{2, 2} {
		t.Errorf("2 turns: limiter counts and replies observed %v", countOf(k.count))
	}
	k.say("chan", "0x80180014", true)
	if countOf(k.count) != [2]int{3, 3} {
		t.Errorf("quiet answered turn: limiter counts and replies observed %v", countOf(k.count))
	}
}

// Chatter in a channel leaves no trace but the rate limit's count: no
// state, no unanswered log, nothing observed.
func TestSessionsQuietChatterLeavesNoTrace(t *testing.T) {
	k := newKit(t)
	k.say("thread", "Profile installation failed. Connection to the server could not be established.", true)
	before, _, _ := k.store.Conversation(context.Background(), "thread")
	counted := countOf(k.count)
	for _, s := range []string{"lunch anyone?", "I'll look tomorrow", "hi all"} {
		if out := k.say("thread", s, true); out.Post || out.React {
			t.Errorf("%q: posted %v reacted %v", s, out.Post, out.React)
		}
	}
	after, _, _ := k.store.Conversation(context.Background(), "thread")
	if after.Entry != before.Entry || len(after.Causes) != len(before.Causes) {
		t.Errorf("chatter changed the thread: %+v → %+v", before, after)
	}
	if c := countOf(k.count); c != [2]int{counted[0] + 3, counted[1]} {
		t.Errorf("3 chatter turns: limiter and replies %v, want %v", c, [2]int{counted[0] + 3, counted[1]})
	}
	if top, _ := k.unans.TopUnanswered(context.Background(), 10); len(top) != 0 {
		t.Errorf("chatter reached the unanswered log: %v", top)
	}
	// A direct message that cannot be placed is recorded.
	k.say("dm", "the thing is broken somehow", false)
	if top, _ := k.unans.TopUnanswered(context.Background(), 10); len(top) != 1 {
		t.Errorf("unanswered log %v, want the DM", top)
	}
}

func TestSessionsThanksInThreadReactsAndRecords(t *testing.T) {
	k := newKit(t)
	k.say("thread", "0x80180014", true)
	out := k.say("thread", "Danke, hat funktioniert", true)
	if out.Post || !out.React {
		t.Fatalf("thanks: post %v react %v, want a reaction only", out.Post, out.React)
	}
	c, _ := k.fb.FeedbackCounts(context.Background(), "your-organization-does-not-support-this-version-of-windows")
	if c.Solved != 1 {
		t.Errorf("feedback %+v, want one solved", c)
	}
}

func TestSessionsSaveLanguage(t *testing.T) {
	k := newKit(t)
	k.say("c", "0x80180014", false)
	out := k.say("c", "auf Deutsch bitte", false)
	if out.Reply.Lang != kb.German || out.Reply.Kind != bot.KindAnswer {
		t.Fatalf("switch: %s %s", out.Reply.Kind, out.Reply.Lang)
	}
	if l, ok, _ := k.prefs.Lang(context.Background(), "u1"); !ok || l != kb.German {
		t.Errorf("preference %q %v, want de", l, ok)
	}
	// A new conversation of the same user starts in German.
	if r := k.say("other", "0x80180014", false).Reply; r.Lang != kb.German {
		t.Errorf("new conversation in %s, want de", r.Lang)
	}
}

func TestSessionsRateLimit(t *testing.T) {
	k := newKit(t)
	k.count.Limit = 1
	k.say("c", "0x80180014", false)
	if r := k.say("c", "0x80180014", false).Reply; r.Kind != bot.KindLimited {
		t.Errorf("over the limit: %s", r.Kind)
	}
	if out := k.say("chan", "0x80180014", true); out.Post {
		t.Error("a channel message over the limit was posted")
	}
}

// "lang auto" forgets the preference and the conversation's chosen
// language: the next turn follows the language it is written in.
func TestSessionsClearLang(t *testing.T) {
	k := newKit(t)
	k.say("c", "0x80180014", false)
	k.say("c", "auf Deutsch bitte", false)
	if err := k.s.ClearLang(context.Background(), "u1", "c"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := k.prefs.Lang(context.Background(), "u1"); ok {
		t.Error("preference kept")
	}
	r := k.say("c", "Mijn iPad zegt 'Apparaatlimiet bereikt', wat nu?", false).Reply
	if r.Lang != kb.Dutch {
		t.Errorf("after lang auto, a Dutch paste got %s", r.Lang)
	}
}

// BenchmarkQuietChatter reports what a channel message the bot stays
// silent on costs (target ≤ 1 ms): go test ./bot -run '^$' -bench QuietChatter
func BenchmarkQuietChatter(b *testing.B) {
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: bottest.Engine(b), Store: bot.NewMemoryStore()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		s.Handle(ctx, bot.Turn{Key: "chan", User: "u", Input: bot.Input{Text: "anyone up for lunch at noon? the build is green again"}, Quiet: true})
	}
}

// A delivery worked twice (its first worker died after saving the turn)
// shows the conversation's reply again instead of taking the turn twice.
func TestSessionsTurnTakenOnce(t *testing.T) {
	k := newKit(t)
	ctx := context.Background()
	turn := func(id string, in bot.Input) bot.Outcome {
		return k.s.Handle(ctx, bot.Turn{ID: id, Key: "c", User: "u1", Input: in})
	}
	first := turn("job-1", bot.Input{Text: "Profile installation failed. A connection to the server could not be established."})
	if first.Reply.Entry == nil || len(first.Reply.Entry.Causes) < 3 {
		t.Fatalf("want an answer with at least three causes, got %+v", first.Reply.Kind)
	}
	notSolved := bot.Input{Action: bot.ActNotSolved, Entry: first.Reply.Entry.ID}
	once := turn("job-2", notSolved)
	after, _, _ := k.store.Conversation(ctx, "c")
	again := turn("job-2", notSolved)
	replayed, _, _ := k.store.Conversation(ctx, "c")
	if len(replayed.Tried) != len(after.Tried) || len(after.Tried) != 1 {
		t.Errorf("tried causes after the turn %v, after it was worked again %v; want one, unchanged", after.Tried, replayed.Tried)
	}
	if once.Reply.Kind != again.Reply.Kind || len(again.Reply.Causes) == 0 || len(once.Reply.Causes) == 0 || once.Reply.Causes[0].ID != again.Reply.Causes[0].ID {
		t.Errorf("the turn worked again showed another reply than the turn")
	}
	// A new delivery with the same input is a new turn.
	turn("job-3", notSolved)
	if st, _, _ := k.store.Conversation(ctx, "c"); len(st.Tried) != 2 {
		t.Errorf("a new turn's not solved: tried %v, want two causes", st.Tried)
	}
}

// starter is a bot.TurnStarter over a kit's own stores, as redisstore is
// over Redis; fail makes every part fail.
type starter struct {
	k       *kit
	calls   int
	queries []bot.TurnQuery
	fail    error
}

func (s *starter) StartTurn(ctx context.Context, q bot.TurnQuery) bot.TurnStart {
	s.calls++
	s.queries = append(s.queries, q)
	var r bot.TurnStart
	if s.fail != nil {
		return bot.TurnStart{LangErr: s.fail, LimitErr: s.fail, StateErr: s.fail}
	}
	if q.Lang {
		r.Lang, r.LangOK, r.LangErr = s.k.prefs.Lang(ctx, q.User)
	}
	if q.Limit {
		r.Allowed, r.LimitErr = s.k.count.Allow(ctx, q.User)
	}
	if q.Conversation {
		r.State, r.StateOK, r.StateErr = s.k.store.Conversation(ctx, q.Key)
	}
	return r
}

// TestSessionsStarterReadsInOneGo runs one script of turns through Sessions
// with and without a Starter: the same replies, one StartTurn per turn, the
// language asked only when the input has none.
func TestSessionsStarterReadsInOneGo(t *testing.T) {
	plain := newKit(t)
	withStarter := newKit(t)
	st := &starter{k: &withStarter}
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: newEngine(t), Store: withStarter.store, Preferences: withStarter.prefs,
		Limiter: withStarter.count, Starter: st, Unanswered: withStarter.unans, Feedback: withStarter.fb, Observer: withStarter.count})
	if err != nil {
		t.Fatal(err)
	}
	withStarter.s = s
	plain.count.Limit, withStarter.count.Limit = 5, 5
	script := []struct {
		key, text string
		quiet     bool
	}{
		{"c", "0x80180014", false},
		{"c", "auf Deutsch bitte", false},
		{"c", "alle Benutzer", false},
		{"other", "Profile installation failed", false},
		{"chan", "lunch anyone?", true},
		{"c", "0x80180014", false}, // the sixth turn is over the limit of 5
	}
	for i, turn := range script {
		a, b := plain.say(turn.key, turn.text, turn.quiet), withStarter.say(turn.key, turn.text, turn.quiet)
		if a.Post != b.Post || !reflect.DeepEqual(a.Reply, b.Reply) {
			t.Errorf("turn %d %q: without a starter %s %s %v, with %s %s %v", i, turn.text,
				a.Reply.Kind, a.Reply.Lang, a.Post, b.Reply.Kind, b.Reply.Lang, b.Post)
		}
	}
	if st.calls != len(script) {
		t.Errorf("StartTurn called %d times for %d turns", st.calls, len(script))
	}
	if last := withStarter.say("c", "0x80180014", false).Reply.Kind; last != bot.KindLimited {
		t.Errorf("over the limit: %s", last)
	}
	// A turn that names its language does not read the saved one.
	withStarter.s.Handle(context.Background(), bot.Turn{Key: "x", User: "u1", Input: bot.Input{Text: "0x80180014", Lang: kb.Dutch}})
	if q := st.queries[len(st.queries)-1]; q.Lang || !q.Limit || !q.Conversation {
		t.Errorf("query for a turn with its language: %+v", q)
	}
}

// A Starter whose reads all fail does not stop the turn: it is answered as
// a new conversation, within the limit, and the conversation it could not
// read is not saved over.
func TestSessionsStarterFailing(t *testing.T) {
	k := newKit(t)
	k.say("c", "0x80180014", false)
	k.say("c", "all users", false)
	before, _, _ := k.store.Conversation(context.Background(), "c")
	st := &starter{k: &k, fail: context.DeadlineExceeded}
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: newEngine(t), Store: k.store, Preferences: k.prefs,
		Limiter: k.count, Starter: st, Observer: k.count})
	if err != nil {
		t.Fatal(err)
	}
	out := s.Handle(context.Background(), bot.Turn{Key: "c", User: "u1", Input: bot.Input{Text: "0x80180014"}})
	if !out.Post || out.Reply.Kind == bot.KindLimited {
		t.Fatalf("a failing starter stopped the turn: %s %v", out.Reply.Kind, out.Post)
	}
	after, _, _ := k.store.Conversation(context.Background(), "c")
	if len(after.Facts) != len(before.Facts) || after.Turn != before.Turn {
		t.Errorf("the unreadable conversation was saved over: before %+v, after %+v", before.Facts, after.Facts)
	}
}
