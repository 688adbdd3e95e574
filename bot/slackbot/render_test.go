package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
		{"answer-en", bot.Turn{Text: "Enrollment fails with 0x80180014"}, bot.KindAnswer, view{conv: "slack:C0001:1700000000.000100"}},
		{"answer-nl", bot.Turn{Text: dutchError}, bot.KindAnswer, view{conv: "slack:C0001:1700000000.000200"}},
		{"answer-ephemeral-en", bot.Turn{Text: "<!channel> 0x80180026 & more"}, bot.KindAnswer,
			view{conv: "slack:cmd:C0001:U0001", echo: "<!channel> 0x80180026 & more", asker: "U0001", share: true}},
		{"answer-expanded-verdict-nl", bot.Turn{Text: "0x80180026", Lang: kb.Dutch}, bot.KindAnswer,
			view{expanded: true, verdict: &verdict{user: "U0002", solved: true}}},
		{"choices-en", bot.Turn{Text: "profile installation failed"}, bot.KindChoices, view{conv: "slack:C0001:1700000000.000300"}},
		{"choices-nl", bot.Turn{Text: "not authorized", Lang: kb.Dutch}, bot.KindChoices, view{conv: "slack:D0001"}},
		{"code-en", bot.Turn{Text: "0x80180010"}, bot.KindCode, view{conv: "slack:D0001"}},
		{"code-nl", bot.Turn{Text: "0x80180010", Lang: kb.Dutch}, bot.KindCode, view{conv: "slack:cmd:C0001:U0001", echo: "0x80180010", asker: "U0001", share: true}},
		{"clarify-en", bot.Turn{Text: "enrollment is broken"}, bot.KindClarify, view{conv: "slack:D0001"}},
		{"clarify-nl", bot.Turn{Text: "inschrijven lukt niet", Lang: kb.Dutch}, bot.KindClarify, view{conv: "slack:D0001"}},
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
				writeJSON(t, replyPath, reply)
			} else {
				raw, err := os.ReadFile(replyPath)
				if err != nil {
					t.Fatalf("%v (run go test ./bot/slack/ -run TestGolden -update)", err)
				}
				if err := json.Unmarshal(raw, &reply); err != nil {
					t.Fatal(err)
				}
			}
			msg := rd.render(reply, c.view)
			checkLimits(t, c.name, asJSON(t, msg), msg.Text)
			got := encodeJSON(t, map[string]any{"text": msg.Text, "blocks": msg.Blocks})
			path := filepath.Join("testdata", c.name+".golden.json")
			if *update {
				writeFile(t, path, got)
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/slack/ -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendering; if the change is intended, run go test ./bot/slack/ -run TestGolden -update\n%s",
					path, firstDiff(string(want), string(got)))
			}
		})
	}
}

// encodeJSON returns v as indented JSON. slack-go escapes <, > and & in
// JSON; unescaped, the files read as Slack shows the text (it is the same
// JSON).
func encodeJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(buf.String()))
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	writeFile(t, path, encodeJSON(t, v))
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstDiff shows the first line where want and got part.
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
			return fmt.Sprintf("line %d:\n want %s\n  got %s", i+1, w, g)
		}
	}
	return ""
}

// TestCatalogWithinSlackLimits renders every entry of the built-in catalog
// in every language, the way each can be shown, and checks Slack's limits.
func TestCatalogWithinSlackLimits(t *testing.T) {
	store := bot.NewMemoryStore()
	e := newEngine(t, store)
	rd := newRenderer(t)
	m, _ := testMatcher()
	cat := m.Catalog()
	longEcho := strings.Repeat("<!channel> & <@U0999> ", 400)
	code, err := e.Handle(context.Background(), bot.Turn{Text: "0x80180014"})
	if err != nil || code.Code == nil {
		t.Fatalf("no code reply: %v", err)
	}
	views := map[string]view{
		"collapsed": {conv: "slack:C0001:1700000000.000100"},
		"expanded":  {conv: "slack:C0001:1700000000.000100", expanded: true},
		"ephemeral": {conv: "slack:cmd:C0001:U0001", echo: longEcho, asker: "U0001", share: true, expanded: true,
			verdict: &verdict{user: "U0001", solved: false}},
	}
	n := 0
	for _, entry := range cat.Entries {
		for _, lang := range kb.Langs {
			reply := entryReply(t, e, store, entry.ID, lang)
			reply.Code = code.Code
			reply.Notices = []string{"A notice about the input."}
			for vn, v := range views {
				msg := rd.render(reply, v)
				name := entry.ID + "/" + string(lang) + "/" + vn
				blocks := asJSON(t, msg)
				checkLimits(t, name, blocks, msg.Text)
				shown := strings.Count(fmt.Sprint(blocks), reply.Entry.Causes[0].Heading)
				if v.expanded && len(reply.Entry.Causes) > 1 && !strings.Contains(fmt.Sprint(blocks), reply.Entry.Causes[len(reply.Entry.Causes)-1].Heading) {
					t.Errorf("%s: the last cause is missing", name)
				}
				if shown == 0 {
					t.Errorf("%s: the first cause is missing", name)
				}
				n++
			}
		}
	}
	// Choices: every entry's title on a candidate button.
	choices, err := e.Handle(context.Background(), bot.Turn{Text: "profile installation failed"})
	if err != nil || choices.Kind != bot.KindChoices {
		t.Fatalf("no choices reply: %v %s", err, choices.Kind)
	}
	for _, lang := range kb.Langs {
		for i := 0; i < len(cat.Entries); i += 4 {
			r := choices
			r.Choices = nil
			for j, entry := range cat.Entries[i:min(i+4, len(cat.Entries))] {
				r.Choices = append(r.Choices, bot.Choice{N: j + 1, ID: entry.ID, Title: entry.Title.In(lang), Platform: entry.Platform})
			}
			msg := rd.render(r, view{conv: "slack:cmd:C0001:U0001", echo: longEcho, asker: "U0001", share: true})
			checkLimits(t, fmt.Sprintf("choices %s %d", lang, i), asJSON(t, msg), msg.Text)
			n++
		}
	}
	if n < len(cat.Entries)*len(kb.Langs)*len(views) {
		t.Fatalf("rendered %d messages", n)
	}
}

// TestLongEntrySplitsCleanly renders an entry far beyond Slack's limits and
// checks that it is cut into whole pieces within them.
func TestLongEntrySplitsCleanly(t *testing.T) {
	rd := newRenderer(t)
	e := &bot.Entry{ID: "long", Title: strings.Repeat("Very long title ", 20), Platform: kb.Windows,
		SourceURL: "https://learn.microsoft.com/mem/intune/enrollment/long"}
	for i := range 12 {
		c := bot.Cause{ID: fmt.Sprintf("c%d", i), Heading: fmt.Sprintf("Cause %d of 12", i+1),
			Summary: strings.Repeat("A summary that goes on. ", 150)}
		for j := range 9 {
			c.Steps = append(c.Steps, fmt.Sprintf("Step %d.%d: open **Devices** > **Enroll** & check ", i, j)+strings.Repeat("word ", 120))
		}
		for j := range 12 {
			c.Notes = append(c.Notes, fmt.Sprintf("Note %d.%d ", i, j)+strings.Repeat("x", 3500))
		}
		e.Causes = append(e.Causes, c)
	}
	reply := bot.Reply{Kind: bot.KindAnswer, Lang: kb.English, Entry: e,
		Words: bot.Words{Steps: "Steps", Note: "Note", Source: "Source", FollowUp: "Tell me:", Platform: "Platform"}}
	for _, expanded := range []bool{false, true} {
		msg := rd.render(reply, view{expanded: expanded, share: true, echo: "x", asker: "U0001"})
		blocks := asJSON(t, msg)
		checkLimits(t, fmt.Sprintf("long expanded=%v", expanded), blocks, msg.Text)
		all := fmt.Sprint(blocks)
		// Every step of the first cause is there, whole and in order.
		last := -1
		for j := range 9 {
			i := strings.Index(all, fmt.Sprintf("Step 0.%d:", j))
			if i < last {
				t.Errorf("expanded=%v: step 0.%d missing or out of order", expanded, j)
			}
			last = i
		}
		if !hasButton(blocks, actionSolved) {
			t.Errorf("expanded=%v: the buttons were cut", expanded)
		}
		if expanded && !strings.Contains(all, "Further causes") {
			t.Errorf("causes beyond the budget are not pointed to the source")
		}
	}
}

func TestEscapeAndBold(t *testing.T) {
	cases := map[string]string{
		"<!channel> & <@U1>":                        "&lt;!channel&gt; &amp; &lt;@U1&gt;",
		"go to **Devices** > **Enroll**":            "go to *Devices* &gt; *Enroll*",
		"**a** and **b & c**":                       "*a* and *b &amp; c*",
		"2 * 3 ** 4":                                "2 * 3 ** 4",
		"`HKLM\\...\\<TenantId>`":                   "`HKLM\\...\\&lt;TenantId&gt;`",
		"already &amp; escaped stays visible as is": "already &amp;amp; escaped stays visible as is",
	}
	for in, want := range cases {
		if got := mrkdwn(in); got != want {
			t.Errorf("mrkdwn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChunkAndCut(t *testing.T) {
	texts := []string{
		strings.Repeat("line of text\n", 500),
		strings.Repeat("x", 7000),
		strings.Repeat("&amp;", 1000),
		strings.Repeat("é", 4000),
		strings.Repeat("word ", 2000) + "\n" + strings.Repeat("🙂", 1000),
	}
	for _, s := range texts {
		for _, n := range []int{10, 100, 3000} {
			pieces := chunk(s, n)
			for _, p := range pieces {
				if len(p) > n || p == "" {
					t.Fatalf("chunk(%d): piece of %d bytes", n, len(p))
				}
				if strings.Contains(s, "&amp;") && (strings.Count(p, "&") != strings.Count(p, ";")) {
					t.Fatalf("chunk(%d) split an entity: %q", n, p)
				}
			}
			if strip(strings.Join(pieces, "")) != strip(s) {
				t.Fatalf("chunk(%d) lost text", n)
			}
			c := cut(s, n)
			if len(c) > n || !strings.HasSuffix(c, "…") {
				t.Fatalf("cut(%d) = %d bytes %q", n, len(c), c[max(0, len(c)-10):])
			}
		}
	}
	if cut("short", 10) != "short" {
		t.Fatal("cut changed a short text")
	}
}

func strip(s string) string { return strings.Join(strings.Fields(s), "") }

func TestRefEncodeWithinLimit(t *testing.T) {
	r := ref{Conv: "slack:cmd:C0001:U0001", Entry: strings.Repeat("e", 171), Lang: kb.German,
		Causes: []string{"a", "b", "c"}, Code: "0x80180014", Text: strings.Repeat("<\"ü\\>", 2000), Asker: "U0001", Share: true}
	v := r.encode()
	if len(v) > maxButtonValue {
		t.Fatalf("value of %d bytes", len(v))
	}
	back, err := decodeRef(v)
	if err != nil {
		t.Fatal(err)
	}
	if back.Entry != r.Entry || back.Lang != r.Lang || len(back.Causes) != 3 || !strings.HasPrefix(r.Text, back.Text) || back.Text == "" {
		t.Fatalf("round trip lost the essentials: %+v", back)
	}
	if _, err := decodeRef("not json"); err == nil {
		t.Fatal("garbage decoded")
	}
	if got, _ := decodeRef(`{"l":"xx"}`); got.Lang != "" {
		t.Fatalf("an invalid language survived: %q", got.Lang)
	}
}
