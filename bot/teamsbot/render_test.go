package teamsbot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/internal/golden"
	"github.com/enrollbot/enrollbot/kb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func newRenderer(t testing.TB) *renderer {
	t.Helper()
	return &renderer{w: newEngine(t).Wording()}
}

// entryReply returns the answer for one entry, as a click on its pick
// button gets it, in a conversation of its own.
func entryReply(t testing.TB, k kit, id string, lang kb.Lang) bot.Reply {
	t.Helper()
	r := k.say(t, "test:"+id+":"+string(lang), bot.Input{Action: bot.ActPick, Entry: id, Lang: lang})
	if r.Kind != bot.KindAnswer || r.Entry == nil || r.Entry.ID != id {
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
	rd := newRenderer(t)
	text := func(s string) bot.Input { return bot.Input{Text: s} }
	cases := []struct {
		name string
		// inputs are the turns of one conversation; the last one's reply is
		// rendered.
		inputs []bot.Input
		kind   bot.Kind
		view   view
		// limit refuses every turn past it.
		limit int
	}{
		{"answer-en", []bot.Input{text("Enrollment fails with 0x80180014")}, bot.KindAnswer, view{}, 0},
		{"answer-de", []bot.Input{{Text: germanPaste, Locale: "en-US"}}, bot.KindAnswer, view{}, 0},
		{"answer-nl", []bot.Input{{Text: "0x80180026", Lang: kb.Dutch}}, bot.KindAnswer, view{}, 0},
		{"answer-causes-en", []bot.Input{text("auto mdm enroll failed")}, bot.KindAnswer, view{}, 0},
		{"answer-all-causes-en", []bot.Input{text("auto mdm enroll failed"), {Action: bot.ActNotSolved, Entry: "auto-mdm-enroll-failed"},
			{Action: bot.ActAllCauses}}, bot.KindAnswer, view{expand: true}, 0},
		{"answer-next-cause-en", []bot.Input{text("auto mdm enroll failed"), {Action: bot.ActNotSolved, Entry: "auto-mdm-enroll-failed"}},
			bot.KindAnswer, view{}, 0},
		{"answer-picked-en", []bot.Input{text("profile installation failed"),
			{Action: bot.ActPick, Entry: "profile-installation-failed-connection-to-the-server-could-not-be-established"}}, bot.KindAnswer, view{}, 0},
		{"answer-lang-nl", []bot.Input{text("0x80180014"), {Action: bot.ActLang, Lang: kb.Dutch}}, bot.KindAnswer, view{}, 0},
		{"choices-en", []bot.Input{text("profile installation failed")}, bot.KindChoices, view{}, 0},
		{"choices-sv", []bot.Input{{Text: "not authorized", Lang: kb.Swedish}}, bot.KindChoices, view{}, 0},
		{"code-en", []bot.Input{text("0x80180010")}, bot.KindCode, view{}, 0},
		{"clarify-en", []bot.Input{text("enrollment is broken")}, bot.KindClarify, view{}, 0},
		{"clarify-de", []bot.Input{{Text: "Registrierung geht nicht", Lang: kb.German}}, bot.KindClarify, view{}, 0},
		{"out-of-scope-en", []bot.Input{text("android enrollment fails")}, bot.KindOutOfScope, view{}, 0},
		{"smalltalk-help-en", []bot.Input{text("help")}, bot.KindSmalltalk, view{}, 0},
		{"solved-en", []bot.Input{text("0x80180014"), {Action: bot.ActSolved, Entry: "your-organization-does-not-support-this-version-of-windows"}},
			bot.KindSmalltalk, view{}, 0},
		{"summary-en", []bot.Input{text("0x80180014"), text("all users"), {Action: bot.ActSummary}}, bot.KindSummary, view{}, 0},
		{"handoff-de", []bot.Input{{Text: germanPaste}, {Action: bot.ActPerson}}, bot.KindHandoff, view{}, 0},
		{"limited-en", []bot.Input{text("0x80180014"), text("0x80180014")}, bot.KindLimited, view{}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The reply is a fixture, taken from the engine by -update, so
			// that catalog edits do not move the renderer's golden files.
			replyPath := filepath.Join("testdata", c.name+".reply.json")
			var reply bot.Reply
			if *update {
				k := newKit(t)
				k.count.Limit = c.limit
				reply = k.say(t, "golden:"+c.name, c.inputs...)
				if reply.Kind != c.kind {
					t.Fatalf("the engine answered %s, the case wants %s", reply.Kind, c.kind)
				}
				golden.Write(t, replyPath, encodeJSON(t, reply))
			} else {
				raw, err := os.ReadFile(replyPath)
				if err != nil {
					t.Fatalf("%v (run go test ./bot/teamsbot/ -run TestGolden -update)", err)
				}
				if err := json.Unmarshal(raw, &reply); err != nil {
					t.Fatal(err)
				}
			}
			checkGolden(t, c.name, rd.reply(reply, c.view))
		})
	}
	for _, lang := range []kb.Lang{kb.English, kb.German} {
		t.Run("welcome-"+string(lang), func(t *testing.T) {
			checkGolden(t, "welcome-"+string(lang), rd.welcome(lang))
		})
	}
}

// checkGolden checks c against the rules and compares it with its golden file.
func checkGolden(t *testing.T, name string, c card) {
	t.Helper()
	checkCard(t, name, cardJSON(c))
	got := encodeJSON(t, c)
	path := filepath.Join("testdata", name+".card.json")
	if *update {
		golden.Write(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/teamsbot/ -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering; if the change is intended, run go test ./bot/teamsbot/ -run TestGolden -update\n%s",
			path, golden.FirstDiff(string(want), string(got)))
	}
}

// TestCatalogCardsValid renders every catalog entry in every language, as
// the answer a pick gets, as all its causes, and as the brief answer "Not
// solved" gets; and the replies of every other kind in every language; and
// checks each card against the Adaptive Card rules and Teams' limits.
func TestCatalogCardsValid(t *testing.T) {
	k := newKit(t)
	rd := newRenderer(t)
	cat := newEngine(t).Catalog()
	largest, largestName, cards := 0, "", 0
	check := func(name string, c card) {
		t.Helper()
		raw := cardJSON(c)
		checkCard(t, name, raw)
		cards++
		if len(raw) > largest {
			largest, largestName = len(raw), name
		}
	}
	for _, entry := range cat.Entries {
		for _, lang := range kb.Langs {
			r := entryReply(t, k, entry.ID, lang)
			name := entry.ID + "/" + string(lang)
			c := rd.reply(r, view{})
			check(name, c)
			check(name+"/all", rd.reply(r, view{expand: true}))
			// Every step of the likely cause is on the card, and every other
			// cause behind its button or named as left out.
			texts := cardTexts(c)
			for _, s := range r.Entry.Causes[0].Steps {
				if !strings.Contains(texts, plainText(s)) {
					t.Errorf("%s: step missing: %s\n%s", name, s, texts)
				}
			}
			if len(r.Entry.Causes) > 1 && !strings.Contains(texts, plainText(r.Entry.Causes[1].Summary)) &&
				!strings.Contains(texts, rd.w.Get(lang, "TeamsMoreCauses", map[string]any{"N": len(r.Entry.Causes) - 1})) {
				t.Errorf("%s: the second cause is neither shown nor named", name)
			}
			if c.Lang != string(lang) {
				t.Errorf("%s: card language %s", name, c.Lang)
			}
			if len(r.Entry.Causes) > 1 {
				brief := k.say(t, "test:"+entry.ID+":"+string(lang), bot.Input{Action: bot.ActNotSolved, Entry: entry.ID})
				check(name+"/not-solved", rd.reply(brief, view{}))
			}
		}
	}
	text := func(s string) bot.Input { return bot.Input{Text: s} }
	for _, lang := range kb.Langs {
		for _, inputs := range [][]bot.Input{
			{text("profile installation failed")}, {text("not authorized")}, {text("0x80180010")},
			{text("enrollment is broken")}, {text("")}, {text("0x8018ffff")}, {text("android enrollment fails")},
			{text("how do I set up autopilot?")}, {text("hi")}, {text("help")}, {text("thanks")},
			{text("0x80180014"), {Action: bot.ActSummary}}, {text("0x80180014"), {Action: bot.ActPerson}},
			{{Action: bot.ActSummary}}, {text("enrollment is broken"), text("it just fails"), text("no idea"), text("still broken")},
		} {
			for i := range inputs {
				inputs[i].Lang = lang
			}
			k := newKit(t)
			r := k.say(t, "c", inputs...)
			check(string(lang)+"/"+string(r.Kind)+"/"+inputs[0].Text, rd.reply(r, view{}))
		}
		limited := newKit(t)
		limited.count.Limit = 1
		r := limited.say(t, "c", text("hi"), bot.Input{Text: "0x80180014", Lang: lang})
		check(string(lang)+"/limited", rd.reply(r, view{}))
		check("welcome/"+string(lang), rd.welcome(lang))
		check("note/"+string(lang), rd.note(lang, rd.w.Get(lang, "LangUsage", nil)))
	}
	t.Logf("%d cards checked; the largest, %s, has %d bytes (limit %d)", cards, largestName, largest, MaxCardBytes)
}

// plainText is catalog text as a card shows it: without the **bold** and
// `code` marks.
func plainText(s string) string {
	return strings.NewReplacer("**", "", "`", "").Replace(s)
}

// mdLink matches a Markdown link of a TextBlock.
var mdLink = regexp.MustCompile(`\[([^\]]*)\]\(([^)]*)\)`)

// readable is a TextBlock's Markdown as it reads: without the bold marks,
// links as their URLs.
func readable(md string) string { return plainText(mdLink.ReplaceAllString(md, "$2")) }

// cardTexts returns every text a card shows, the hidden ShowCard included.
func cardTexts(c card) string {
	var b strings.Builder
	var els func([]element)
	var acts func([]action)
	els = func(list []element) {
		for _, el := range list {
			// A TextBlock's Markdown as it reads: links as their URLs.
			b.WriteString(readable(el.Text))
			for _, in := range el.Inlines {
				b.WriteString(in.Text)
			}
			for _, ch := range el.Choices {
				b.WriteString("<" + ch.Title + ">")
			}
			b.WriteString("\n")
			els(el.Items)
			els(el.Columns)
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
	for _, v := range []view{{}, {expand: true}} {
		c := rd.reply(r, v)
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
}

func TestRunsKeepTextLiteral(t *testing.T) {
	got := runs("Open **Settings** > *Accounts* and [click](https://evil.example) <at>x</at>", plainStyle)
	if len(got) != 3 || got[1].Text != "Settings" || got[1].Weight != "Bolder" || got[0].Weight != "" {
		t.Fatalf("runs: %+v", got)
	}
	if got[2].Text != " > *Accounts* and [click](https://evil.example) <at>x</at>" {
		t.Errorf("literal text changed: %q", got[2].Text)
	}
	// Code shows in a monospace font, without its backticks.
	got = runs("Run `dsregcmd /status` now", plainStyle)
	if len(got) != 3 || got[1].Text != "dsregcmd /status" || got[1].FontType != "Monospace" || got[0].FontType != "" {
		t.Fatalf("runs: %+v", got)
	}
}

func TestTextElementLinksURLs(t *testing.T) {
	lead := []inline{label("1. ")}
	cases := []struct {
		text string
		// want is the TextBlock's Markdown; empty when the text is to stay
		// literal runs.
		want string
	}{
		{"Sign in at the Intune web portal (https://portal.manage.microsoft.com).",
			"**1.** Sign in at the Intune web portal ([portal.manage.microsoft.com](https://portal.manage.microsoft.com))."},
		{"Open **Devices** > **All devices** in https://admin.microsoft.com/ and run `dsregcmd /status`.",
			"**1.** Open **Devices** > **All devices** in [admin.microsoft.com](https://admin.microsoft.com/) and run dsregcmd /status."},
		// Markdown could misread the rest: literal runs, the URL as text.
		{"[MobileAssetError:29] Unable to copy asset information from https://mesu.apple.com/assets/", ""},
		{"Check MENROLL_E_X at https://learn.microsoft.com/x", ""},
		{"No address here, `code` only", ""},
		{"See http://example.com", ""},
	}
	for _, c := range cases {
		el := textElement(lead, c.text, plainStyle)
		switch {
		case c.want == "" && el.Type != "RichTextBlock":
			t.Errorf("%q: %s %q, want literal runs", c.text, el.Type, el.Text)
		case c.want != "" && (el.Type != "TextBlock" || el.Text != c.want || !el.Wrap):
			t.Errorf("%q:\n got %s %q\nwant TextBlock %q", c.text, el.Type, el.Text, c.want)
		}
	}
	link := linkElement(bot.Link{Title: "Microsoft Learn: [Android]", URL: "https://learn.microsoft.com/a_(b)"})
	if link.Type != "TextBlock" || link.Text != "[Microsoft Learn: Android](https://learn.microsoft.com/a_%28b%29)" {
		t.Errorf("link: %+v", link)
	}
	if link := linkElement(bot.Link{Title: "x", URL: "javascript:alert(1)"}); link.Type != "RichTextBlock" {
		t.Errorf("a link that is not https: %+v", link)
	}
}

func TestEmptyReplyStillValid(t *testing.T) {
	rd := newRenderer(t)
	for _, r := range []bot.Reply{{}, {Kind: bot.KindAnswer}, {Kind: bot.KindCode}, {Kind: bot.KindChoices, Lang: "xx"},
		{Kind: bot.KindLimited, Intro: "Wait a minute."}, {Kind: bot.KindSummary, Summary: "\n \n"},
		{Kind: bot.KindHandoff, Intro: "\n", OfferPerson: true}, {Kind: bot.KindOutOfScope, Link: &bot.Link{URL: "https://learn.microsoft.com/x"}},
		{Kind: bot.KindAnswer, Brief: true, Entry: &bot.Entry{ID: "x", Title: "t", Causes: []bot.Cause{{Heading: "h", Summary: "s"}, {Heading: "h2", Summary: "s2"}}}}} {
		checkCard(t, string(r.Kind), cardJSON(rd.reply(r, view{})))
	}
}

// A full answer lists the causes the facts ruled out, and why.
func TestCardRuledOut(t *testing.T) {
	e := newEngine(t)
	var st bot.State
	var r bot.Reply
	for _, in := range []bot.Input{{Text: "Profile installation failed. Connection to the server could not be established."},
		{Text: "these are ADE iPads"}, {Action: bot.ActAllCauses}} {
		r, st = e.Respond(st, in)
	}
	if len(r.RuledOut) == 0 {
		t.Fatal("no cause ruled out")
	}
	data, err := json.Marshal(newRenderer(t).reply(r, view{}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), r.RuledOut[0].Because) {
		t.Errorf("ruled-out cause not shown:\n%s", data)
	}
}
