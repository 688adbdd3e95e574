package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/internal/bottest"
	"github.com/enrollbot/enrollbot/kb"
)

func newEngine(t testing.TB) *bot.Engine { return bottest.Engine(t) }

// play runs inputs through Respond from an empty state and returns every
// reply and the final state.
func play(e *bot.Engine, ins ...bot.Input) ([]bot.Reply, bot.State) {
	var st bot.State
	var out []bot.Reply
	for _, in := range ins {
		var r bot.Reply
		r, st = e.Respond(st, in)
		out = append(out, r)
	}
	return out, st
}

func text(s string) bot.Input { return bot.Input{Text: s} }

func firstCause(r bot.Reply) string {
	if r.Entry == nil || len(r.Entry.Causes) == 0 {
		return ""
	}
	return r.Entry.Causes[0].ID
}

const (
	connEntry  = "profile-installation-failed-connection-to-the-server-could-not-be-established"
	winVersion = "your-organization-does-not-support-this-version-of-windows"
)

// TestRespond is the conversation as a table: inputs in, the last reply's
// kind, entry, language and facts out.
func TestRespond(t *testing.T) {
	e := newEngine(t)
	tests := []struct {
		name      string
		ins       []bot.Input
		kind      bot.Kind
		entry     string
		lang      kb.Lang
		facts     map[string]string
		notEntry  string
		notKind   bot.Kind
		notFirst  string // a cause that must not be first
		verdict   *bot.Verdict
		chatter   bool
		setLang   kb.Lang
		wantIntro string
	}{
		{name: "a code answers", ins: []bot.Input{text("0x80180014")}, kind: bot.KindAnswer, entry: winVersion, lang: kb.English},
		{name: "a detail keeps the answer and is noted", ins: []bot.Input{text("0x80180014"), text("started yesterday")},
			kind: bot.KindAnswer, entry: winVersion, facts: map[string]string{"when-started": "worked-before"}, wantIntro: "It used to work"},
		{name: "only her is one user", ins: []bot.Input{text("0x80180014"), text("only her, the rest works")},
			kind: bot.KindAnswer, entry: winVersion, facts: map[string]string{"users-affected": "one"}},
		{name: "German facts", ins: []bot.Input{text("Fehler bei der Profilinstallation. Mit dem Server konnte keine Verbindung hergestellt werden."), text("alle Benutzer, seit gestern")},
			kind: bot.KindAnswer, entry: connEntry, lang: kb.German, facts: map[string]string{"users-affected": "all", "when-started": "worked-before"}},
		{name: "not solved offers the next cause", ins: []bot.Input{text("Profile installation failed. Connection to the server could not be established."), text("that didn't help")},
			kind: bot.KindAnswer, entry: connEntry, notFirst: "personal-devices-blocked", verdict: &bot.Verdict{Entry: connEntry}},
		{name: "not solved button", ins: []bot.Input{text("Profile installation failed. Connection to the server could not be established."), {Action: bot.ActNotSolved, Entry: connEntry}},
			kind: bot.KindAnswer, entry: connEntry, notFirst: "personal-devices-blocked"},
		{name: "a cause run out hands over", ins: []bot.Input{text("0x80180014"), {Action: bot.ActNotSolved}},
			kind: bot.KindHandoff},
		{name: "Dutch still not working", ins: []bot.Input{text("Profielinstallatie mislukt. Er kan geen verbinding met de server worden gemaakt."), text("werkt nog steeds niet")},
			kind: bot.KindAnswer, entry: connEntry, lang: kb.Dutch, notFirst: "personal-devices-blocked"},
		{name: "pick by ordinal word", ins: []bot.Input{text("Profile installation failed"), text("the second one")}, kind: bot.KindAnswer},
		{name: "pick button", ins: []bot.Input{text("Profile installation failed"), {Action: bot.ActPick, Entry: connEntry}}, kind: bot.KindAnswer, entry: connEntry},
		{name: "choices survive a remark", ins: []bot.Input{text("Profile installation failed"), text("hmm let me check")}, kind: bot.KindChoices, chatter: true},
		{name: "greeting", ins: []bot.Input{text("hi")}, kind: bot.KindSmalltalk, lang: kb.English, chatter: true},
		{name: "Dutch hallo with a Dutch locale", ins: []bot.Input{{Text: "hallo", Locale: "nl-NL"}}, kind: bot.KindSmalltalk, lang: kb.Dutch, chatter: true},
		{name: "German moin", ins: []bot.Input{text("moin")}, kind: bot.KindSmalltalk, lang: kb.German, chatter: true},
		{name: "thanks after an answer is solved", ins: []bot.Input{text("0x80180014"), text("Danke, hat funktioniert")},
			kind: bot.KindSmalltalk, verdict: &bot.Verdict{Entry: winVersion, Solved: true}},
		{name: "Android is out of scope", ins: []bot.Input{text("Something went wrong on Android")}, kind: bot.KindOutOfScope, notEntry: "something-went-wrong"},
		{name: "MacBook is out of scope", ins: []bot.Input{text("our MacBook says Profile installation failed")}, kind: bot.KindOutOfScope},
		{name: "set-up question is out of scope", ins: []bot.Input{text("how do I set up ADE for iPads?")}, kind: bot.KindOutOfScope, chatter: true},
		{name: "a subject's own failure is out of scope", ins: []bot.Input{text("VPP apps not installing on iPads after enrollment")}, kind: bot.KindOutOfScope},
		{name: "a subject's own failure, German", ins: []bot.Input{text("Nach der Registrierung werden VPP-Apps auf den iPads nicht installiert, apps werden nicht installiert")}, kind: bot.KindOutOfScope},
		{name: "a subject merely named beside an entry's symptom", ins: []bot.Input{text("ESP times out before the sign-in screen; MSfB apps are tracked and CA requires a compliant device")},
			kind: bot.KindAnswer, entry: "the-enrollment-status-page-times-out-before-the-sign-in-screen"},
		{name: "one word found in one entry's text is a topic, not a diagnosis", ins: []bot.Input{text("call")}, notKind: bot.KindAnswer},
		{name: "unknown code is not answered", ins: []bot.Input{text("Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x80192ee2)")}, notEntry: "auto-mdm-enroll-failed"},
		{name: "English please re-sends the answer", ins: []bot.Input{{Text: "0x80180014", Lang: kb.Dutch}, text("english please")},
			kind: bot.KindAnswer, entry: winVersion, lang: kb.English, setLang: kb.English},
		{name: "kun je in het Nederlands antwoorden", ins: []bot.Input{text("0x80180014"), text("kun je in het Nederlands antwoorden?")},
			kind: bot.KindAnswer, entry: winVersion, lang: kb.Dutch, setLang: kb.Dutch},
		{name: "language at the start", ins: []bot.Input{text("auf Deutsch bitte")}, kind: bot.KindSmalltalk, lang: kb.German, setLang: kb.German},
		{name: "person", ins: []bot.Input{text("0x80180014"), text("can I talk to a human?")}, kind: bot.KindHandoff},
		{name: "summary button", ins: []bot.Input{text("0x80180014"), {Action: bot.ActSummary}}, kind: bot.KindSummary},
		{name: "a new code starts over", ins: []bot.Input{text("0x80180014"), text("now I get 0x80180018")}, kind: bot.KindCode},
		{name: "choose button records the fact", ins: []bot.Input{text("0x80180014"), {Action: bot.ActChoose, Question: "users-affected", Option: "all"}},
			kind: bot.KindAnswer, entry: winVersion, facts: map[string]string{"users-affected": "all"}},
		{name: "platform answer is noted on choices", ins: []bot.Input{text("0x80cf4017"), text("Windows 11")}, kind: bot.KindChoices,
			facts: map[string]string{"platform": "windows"}, wantIntro: "Windows"},
		{name: "Android answers the platform question", ins: []bot.Input{text("it doesn't enroll"), text("Android")}, kind: bot.KindOutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, _ := play(e, tt.ins...)
			r := rs[len(rs)-1]
			if tt.kind != "" && r.Kind != tt.kind {
				t.Fatalf("kind %s, want %s\n%+v", r.Kind, tt.kind, r)
			}
			if tt.entry != "" && (r.Entry == nil || r.Entry.ID != tt.entry) {
				t.Errorf("entry %+v, want %s", r.Entry, tt.entry)
			}
			if tt.notKind != "" && r.Kind == tt.notKind {
				t.Errorf("kind %s, want anything else", r.Kind)
			}
			if tt.notEntry != "" {
				if r.Entry != nil && r.Entry.ID == tt.notEntry && r.Kind == bot.KindAnswer {
					t.Errorf("answered %s", tt.notEntry)
				}
			}
			if tt.lang != "" && r.Lang != tt.lang {
				t.Errorf("lang %s, want %s", r.Lang, tt.lang)
			}
			for q, o := range tt.facts {
				if r.Facts[q] != o {
					t.Errorf("fact %s = %q, want %q (facts %v)", q, r.Facts[q], o, r.Facts)
				}
			}
			if tt.notFirst != "" && firstCause(r) == tt.notFirst {
				t.Errorf("first cause still %s", tt.notFirst)
			}
			if tt.verdict != nil && (r.Verdict == nil || *r.Verdict != *tt.verdict) {
				t.Errorf("verdict %+v, want %+v", r.Verdict, tt.verdict)
			}
			if r.Chatter != tt.chatter {
				t.Errorf("chatter %v, want %v", r.Chatter, tt.chatter)
			}
			if r.SetLang != tt.setLang {
				t.Errorf("SetLang %q, want %q", r.SetLang, tt.setLang)
			}
			if tt.wantIntro != "" && !strings.Contains(r.Intro, tt.wantIntro) {
				t.Errorf("intro %q lacks %q", r.Intro, tt.wantIntro)
			}
		})
	}
}

// The same clarify block is never sent twice in a row.
func TestClarifyNeverRepeats(t *testing.T) {
	e := newEngine(t)
	rs, _ := play(e, text("it doesn't work"), text("enrollment broken"), text("still nothing"))
	if rs[0].Kind != bot.KindClarify {
		t.Fatalf("first reply %s, want clarify", rs[0].Kind)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Kind == bot.KindClarify && rs[i].Intro == rs[i-1].Intro && slices.EqualFunc(rs[i].Questions, rs[i-1].Questions,
			func(a, b bot.Question) bool { return a.ID == b.ID }) {
			t.Errorf("turn %d repeats the clarify block", i+1)
		}
	}
}

// Respond is pure: the same state and input give the same reply, and the
// input state is not changed.
func TestRespondIsPure(t *testing.T) {
	e := newEngine(t)
	_, st := play(e, text("Profile installation failed. Connection to the server could not be established."), text("all users"))
	before := st
	beforeFacts := map[string]string{}
	for k, v := range st.Facts {
		beforeFacts[k] = v
	}
	in := bot.Input{Action: bot.ActNotSolved}
	r1, s1 := e.Respond(st, in)
	r2, s2 := e.Respond(st, in)
	if firstCause(r1) != firstCause(r2) || r1.Kind != r2.Kind || !slices.Equal(s1.Tried, s2.Tried) {
		t.Error("same state and input gave different results")
	}
	if len(before.Tried) != len(st.Tried) || len(st.Facts) != len(beforeFacts) {
		t.Error("Respond changed its input state")
	}
}

// A user pasting megabytes turn after turn does not grow the state.
func TestStateStaysBounded(t *testing.T) {
	e := newEngine(t)
	var st bot.State
	big := "0x80180014 " + strings.Repeat("all users and some padding words ", 2000)
	for range 20 {
		_, st = e.Respond(st, text(big))
		_, st = e.Respond(st, text("only her "+strings.Repeat("x ", 3000)))
	}
	if n := len(st.Text) + len(st.Error); n > 4*(2000+600) {
		t.Errorf("state holds %d bytes of text", n)
	}
}

// A long log with the error near the end is answered from that line.
func TestWholePaste(t *testing.T) {
	e := newEngine(t)
	var b strings.Builder
	for i := 0; b.Len() < 13000; i++ {
		b.WriteString("Information DeviceManagement-Enterprise-Diagnostics-Provider: MDM session started for task 42.\n")
	}
	b.WriteString("Error 76: Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)\n")
	r, _ := e.Respond(bot.State{}, text(b.String()))
	if r.Kind != bot.KindAnswer || r.Entry.ID != "auto-mdm-enroll-failed" {
		t.Errorf("13 KB log: %s %+v", r.Kind, r.Entry)
	}
	start := time.Now()
	e.Respond(bot.State{}, text(strings.Repeat(b.String(), 5)))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("a 64 KB paste took %v", d)
	}
}

func TestMemoryStoreExpires(t *testing.T) {
	s := bot.NewMemoryStore()
	ctx := context.Background()
	if err := s.SaveConversation(ctx, "k", bot.State{Entry: "x"}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, ok, _ := s.Conversation(ctx, "k"); ok {
		t.Error("expired conversation still there")
	}
	if err := s.SaveConversation(ctx, "k", bot.State{Entry: "y"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if st, ok, _ := s.Conversation(ctx, "k"); !ok || st.Entry != "y" {
		t.Errorf("got %+v %v", st, ok)
	}
}

func BenchmarkRespondLongPaste(b *testing.B) {
	e := newEngine(b)
	var sb strings.Builder
	for sb.Len() < 64*1024 {
		sb.WriteString("Information DeviceManagement-Enterprise-Diagnostics-Provider: MDM session started for task 42.\n")
	}
	paste := sb.String()
	for b.Loop() {
		e.Respond(bot.State{}, text(paste))
	}
}

// Respond never panics on what users type or buttons carry, and keeps
// the state bounded and well-formed.
func FuzzRespond(f *testing.F) {
	e := newEngine(f)
	for _, s := range []string{"0x80180014", "the second one", "thanks", "english please", "\xff\x00", "Profile installation failed", "all"} {
		f.Add(s, uint8(0), "device-cap-reached")
	}
	f.Fuzz(func(t *testing.T, s string, act uint8, entry string) {
		var st bot.State
		actions := append([]bot.Action{bot.ActMessage}, bot.Actions...)
		for i := range 3 {
			in := bot.Input{Action: actions[(int(act)+i)%len(actions)], Text: s, Entry: entry, Question: "users-affected", Option: s}
			r, next := e.Respond(st, in)
			if r.Kind == "" || !r.Lang.Valid() {
				t.Fatalf("reply %q in %q", r.Kind, r.Lang)
			}
			if len(next.Text) > 4*2000 || len(next.Error) > 4*600 || len(next.Tried) > 16 {
				t.Fatalf("state grew: %d/%d/%d", len(next.Text), len(next.Error), len(next.Tried))
			}
			st = next
		}
	})
}

// A fact that rules a cause out says so; a later fact wins over an earlier
// one and the reply names both; one cause left asks nothing but whether it
// helped.
func TestNarrowingReplies(t *testing.T) {
	e := newEngine(t)
	const paste = "Profile installation failed. Connection to the server could not be established."
	rs, st := play(e, text(paste), text("these are ADE iPads"))
	r := rs[1]
	if firstCause(r) == "corporate-only" || !strings.Contains(r.Intro, "rules out") || len(r.RuledOut) != 1 {
		t.Errorf("ADE: first %s, intro %q, ruled out %+v", firstCause(r), r.Intro, r.RuledOut)
	}
	r, st = e.Respond(st, text("only one device, a colleague used it before"))
	if firstCause(r) != "previous-user-not-removed" {
		t.Errorf("one used device: first %s", firstCause(r))
	}
	r, st = e.Respond(st, text("sorry, it's all devices"))
	if firstCause(r) != "missing-cname" || !strings.Contains(r.Intro, "was: One device") || st.Facts["devices-affected"] != "all" {
		t.Errorf("contradiction: first %s, intro %q, facts %v", firstCause(r), r.Intro, st.Facts)
	}
	for _, q := range r.Questions {
		if _, known := st.Facts[q.ID]; known {
			t.Errorf("asked %s again", q.ID)
		}
	}
	r, _ = e.Respond(st, bot.Input{Action: bot.ActSummary})
	if !strings.Contains(r.Summary, "personally owned") {
		t.Errorf("summary lacks the cause ruled out:\n%s", r.Summary)
	}

	// Two causes, one ruled out: nothing more to ask.
	rs, _ = play(e, text("Looks like the MDM Terms of Use endpoint is not correctly configured"), text("yes, she has a licence"))
	r = rs[1]
	if firstCause(r) != "wrong-terms-of-use-url" || len(r.Questions) != 0 || !strings.Contains(r.Intro, "Did this fix it?") {
		t.Errorf("licence confirmed: first %s, questions %v, intro %q", firstCause(r), r.Questions, r.Intro)
	}
}

// BenchmarkWorstInputs reports the CPU one message costs for the worst
// inputs we can build (issue: bounded work per message; target ≤ 20 ms
// each). Run: go test ./bot -run '^$' -bench WorstInputs -benchtime 20x
func BenchmarkWorstInputs(b *testing.B) {
	e := newEngine(b)
	var codes strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&codes, "0x8018%04x ", i)
	}
	var log strings.Builder
	for log.Len() < 64*1024 {
		log.WriteString("Error DeviceManagement-Enterprise-Diagnostics-Provider 0x80180014 MDM session failed\n")
	}
	invalid := strings.Repeat("\xff\xfe Profil\xc3 installation \x00failed ", 2000)
	for _, in := range []struct{ name, text string }{
		{"paste-64KB", log.String()},
		{"word-64KB", strings.Repeat("a", 64*1024)},
		{"word-4000", strings.Repeat("x", 4000)},
		{"codes-10000", codes.String()},
		{"invalid-utf8", invalid},
	} {
		b.Run(in.name, func(b *testing.B) {
			for b.Loop() {
				e.Respond(bot.State{}, text(in.text))
			}
		})
	}
}

// What to collect comes with every full answer and goes into the summary
// while the problem is not solved.
func TestCollectInAnswerAndSummary(t *testing.T) {
	e := newEngine(t)
	rs, _ := play(e, text("0x80180014"), bot.Input{Action: bot.ActNotSolved})
	if len(rs[0].Entry.Collect) == 0 {
		t.Fatal("the answer says nothing to collect")
	}
	if !strings.Contains(rs[1].Summary, bot.Unmark(rs[0].Entry.Collect[0])) {
		t.Errorf("hand-off summary lacks what to collect:\n%s", rs[1].Summary)
	}
	if strings.Contains(rs[1].Summary, "**") {
		t.Errorf("summary keeps markup:\n%s", rs[1].Summary)
	}
}

// A fact that rules out every cause of the answer says so and moves on
// instead of repeating the answer.
func TestEveryCauseRuledOut(t *testing.T) {
	e := newEngine(t)
	rs, _ := play(e, text("User Name Not Recognized. This user account is not authorized to use Microsoft Intune."), text("she has a licence, E3"))
	r := rs[1]
	if r.Kind == bot.KindAnswer || !strings.Contains(r.Intro, "rules out every cause") {
		t.Errorf("kind %s, intro %q", r.Kind, r.Intro)
	}
}

// An answer a signal pointed to says which, in the reply's language.
func TestSignalNamedInTheAnswer(t *testing.T) {
	e := newEngine(t)
	for _, tt := range []struct {
		in   bot.Input
		want string
	}{
		{text("we see Event 76 on every hybrid joined PC"), "Event 76 points to this error."},
		{bot.Input{Text: "gebeurtenis-id 30132 op de connectorserver", Lang: kb.Dutch}, "gebeurtenis-id 30132 wijst op deze fout."},
	} {
		rs, _ := play(e, tt.in)
		r := rs[len(rs)-1]
		if r.Kind != bot.KindAnswer || !slices.Contains(r.Notices, tt.want) {
			t.Errorf("%q: %s with notices %q, want an answer noting %q", tt.in.Text, r.Kind, r.Notices, tt.want)
		}
	}
	rs, _ := play(e, text("0x80180014"))
	for _, n := range rs[0].Notices {
		if strings.Contains(n, "points to") {
			t.Errorf("a code answer noted a signal: %q", n)
		}
	}
}
