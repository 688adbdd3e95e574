package teamsbot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
	"github.com/enrollbot/enrollbot/locales"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func newRenderer(t testing.TB) *renderer {
	t.Helper()
	bundle, err := locales.Bundle(locales.Files())
	if err != nil {
		t.Fatal(err)
	}
	return &renderer{w: newWords(bundle, slog.New(slog.DiscardHandler))}
}

// entryReply returns the engine's answer for one entry, as a click on a
// choice gets it.
func entryReply(t testing.TB, e *bot.Engine, store bot.Store, id string, lang kb.Lang) bot.Reply {
	t.Helper()
	key := "test:" + id + ":" + string(lang)
	ctx := context.Background()
	if err := store.SaveConversation(ctx, key, bot.State{Lang: lang, Choices: []string{id}}, bot.DefaultStateTTL); err != nil {
		t.Fatal(err)
	}
	r, err := e.Handle(ctx, bot.Turn{Text: "1", Lang: lang, Conversation: key})
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != bot.KindAnswer || r.Entry == nil {
		t.Fatalf("entry %s in %s: got a %s reply", id, lang, r.Kind)
	}
	return r
}

func encodeJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	store := bot.NewMemoryStore()
	e := newEngine(t, store)
	rd := newRenderer(t)
	cases := []struct {
		name string
		turn bot.Turn
		kind bot.Kind
		view view
	}{
		{"answer-en", bot.Turn{Text: "Enrollment fails with 0x80180014"}, bot.KindAnswer, view{}},
		{"answer-de", bot.Turn{Text: germanPaste, Locale: "en-US"}, bot.KindAnswer, view{}},
		{"answer-verdict-nl", bot.Turn{Text: "0x80180026", Lang: kb.Dutch}, bot.KindAnswer, view{verdict: &verdict{name: "Megan <b>Bowen</b> **x**", solved: true}}},
		{"choices-en", bot.Turn{Text: "profile installation failed"}, bot.KindChoices, view{}},
		{"choices-sv", bot.Turn{Text: "not authorized", Lang: kb.Swedish}, bot.KindChoices, view{}},
		{"code-en", bot.Turn{Text: "0x80180010"}, bot.KindCode, view{}},
		{"clarify-en", bot.Turn{Text: "enrollment is broken"}, bot.KindClarify, view{}},
		{"clarify-de", bot.Turn{Text: "Registrierung geht nicht", Lang: kb.German}, bot.KindClarify, view{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The reply is a fixture, taken from the engine by -update, so
			// that catalog edits do not move the renderer's golden files.
			replyPath := filepath.Join("testdata", c.name+".reply.json")
			var reply bot.Reply
			if *update {
				var err error
				reply, err = e.Handle(context.Background(), c.turn)
				if err != nil {
					t.Fatal(err)
				}
				if reply.Kind != c.kind {
					t.Fatalf("the engine answered %s, the case wants %s", reply.Kind, c.kind)
				}
				writeFile(t, replyPath, encodeJSON(t, reply))
			} else {
				raw, err := os.ReadFile(replyPath)
				if err != nil {
					t.Fatalf("%v (run go test ./bot/teams/ -run TestGolden -update)", err)
				}
				if err := json.Unmarshal(raw, &reply); err != nil {
					t.Fatal(err)
				}
			}
			golden(t, c.name, rd.reply(reply, c.view))
		})
	}
	for _, lang := range []kb.Lang{kb.English, kb.German} {
		t.Run("welcome-"+string(lang), func(t *testing.T) {
			golden(t, "welcome-"+string(lang), rd.welcome(lang))
		})
	}
}

// golden checks c against the rules and compares it with its golden file.
func golden(t *testing.T, name string, c card) {
	t.Helper()
	checkCard(t, name, cardJSON(c))
	got := encodeJSON(t, c)
	path := filepath.Join("testdata", name+".card.json")
	if *update {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/teams/ -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering; if the change is intended, run go test ./bot/teams/ -run TestGolden -update\n%s",
			path, firstDiff(string(want), string(got)))
	}
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return ""
}

// TestCatalogCardsValid renders every catalog entry in every language, via
// the engine, as an answer, with and without a verdict; and the choices,
// code and clarify replies in every language; and checks each card against
// the Adaptive Card rules and Teams' limits.
func TestCatalogCardsValid(t *testing.T) {
	store := bot.NewMemoryStore()
	e := newEngine(t, store)
	rd := newRenderer(t)
	cat, err := kb.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	largest, largestName, cards := 0, "", 0
	check := func(name string, c card) {
		raw := cardJSON(c)
		checkCard(t, name, raw)
		cards++
		if len(raw) > largest {
			largest, largestName = len(raw), name
		}
	}
	for _, entry := range cat.Entries {
		for _, lang := range kb.Langs {
			r := entryReply(t, e, store, entry.ID, lang)
			name := entry.ID + "/" + string(lang)
			c := rd.reply(r, view{})
			check(name, c)
			check(name+"/verdict", rd.reply(r, view{verdict: &verdict{name: "Megan Bowen", solved: false}}))
			// Every step of the likely cause is on the card, and every other
			// cause behind its button or named as left out.
			texts := cardTexts(c)
			for _, s := range r.Entry.Causes[0].Steps {
				if !strings.Contains(texts, strings.ReplaceAll(s, "**", "")) {
					t.Errorf("%s: step missing: %s", name, s)
				}
			}
			if len(r.Entry.Causes) > 1 && !strings.Contains(texts, strings.ReplaceAll(r.Entry.Causes[1].Summary, "**", "")) &&
				!strings.Contains(texts, rd.w.Get(lang, "TeamsMoreCauses", map[string]any{"N": len(r.Entry.Causes) - 1})) {
				t.Errorf("%s: the second cause is neither shown nor named", name)
			}
			if c.Lang != string(lang) {
				t.Errorf("%s: card language %s", name, c.Lang)
			}
		}
	}
	for _, lang := range kb.Langs {
		for _, text := range []string{"profile installation failed", "not authorized", "0x80180010", "enrollment is broken", "", "0x8018ffff"} {
			r, err := e.Handle(context.Background(), bot.Turn{Text: text, Lang: lang})
			if err != nil {
				t.Fatal(err)
			}
			check(string(lang)+"/"+string(r.Kind)+"/"+text, rd.reply(r, view{}))
		}
		check("welcome/"+string(lang), rd.welcome(lang))
		check("note/"+string(lang), rd.note(lang, rd.w.Get(lang, "TeamsLangSet", nil)))
	}
	t.Logf("%d cards checked; the largest, %s, has %d bytes (limit %d)", cards, largestName, largest, MaxCardBytes)
}

// cardTexts returns every text a card shows, the hidden ShowCard included.
func cardTexts(c card) string {
	var b strings.Builder
	var els func([]element)
	var acts func([]action)
	els = func(list []element) {
		for _, el := range list {
			for _, in := range el.Inlines {
				b.WriteString(in.Text)
			}
			b.WriteString("\n")
			els(el.Items)
			acts(el.Actions)
		}
	}
	acts = func(list []action) {
		for _, a := range list {
			b.WriteString(a.Title + "\n")
			if a.Card != nil {
				els(a.Card.Body)
			}
		}
	}
	els(c.Body)
	acts(c.Actions)
	return b.String()
}

func TestOversizedEntryStaysWithinLimit(t *testing.T) {
	rd := newRenderer(t)
	long := strings.Repeat("A very long step that explains a great deal about enrollment. ", 20)
	var causes []bot.Cause
	for i := range 12 {
		causes = append(causes, bot.Cause{ID: "c" + strconv.Itoa(i), Heading: "Cause " + strconv.Itoa(i+1) + " of 12",
			Summary: "**Summary** " + long, Steps: []string{long, long}, Notes: []string{long}})
	}
	r := bot.Reply{Kind: bot.KindAnswer, Lang: kb.English, Entry: &bot.Entry{ID: "x", Title: "Long", Platform: kb.IOS,
		SourceURL: "https://learn.microsoft.com/x", Causes: causes},
		Words: bot.Words{Steps: "Steps", Note: "Note", Source: "Source", FollowUp: "Tell me", Platform: "Platform"}}
	c := rd.reply(r, view{})
	raw := cardJSON(c)
	checkCard(t, "oversized", raw)
	texts := cardTexts(c)
	if !strings.Contains(texts, "are in the source article") {
		t.Errorf("no note that causes were left out:\n%s", texts)
	}
	if !strings.Contains(texts, "Summary") || !strings.Contains(texts, "Cause 1 of 12") {
		t.Errorf("the likely cause is missing")
	}
}

func TestRunsKeepTextLiteral(t *testing.T) {
	got := runs("Open **Settings** > *Accounts* and [click](https://evil.example) <at>x</at>", plainStyle)
	if len(got) != 3 || got[1].Text != "Settings" || got[1].Weight != "Bolder" || got[0].Weight != "" {
		t.Fatalf("runs: %+v", got)
	}
	if got[2].Text != " > *Accounts* and [click](https://evil.example) <at>x</at>" {
		t.Errorf("literal text changed: %q", got[2].Text)
	}
}

func TestEmptyReplyStillValid(t *testing.T) {
	rd := newRenderer(t)
	for _, r := range []bot.Reply{{}, {Kind: bot.KindAnswer}, {Kind: bot.KindCode}, {Kind: bot.KindChoices, Lang: "xx"}, {Kind: bot.KindLimited, Intro: "Wait a minute."}} {
		checkCard(t, string(r.Kind), cardJSON(rd.reply(r, view{})))
	}
}
