package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/internal/golden"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func newRenderer(t testing.TB) *renderer {
	t.Helper()
	return &renderer{w: newWords(newEngine(t).Wording())}
}

// replyOf answers inputs in turn in one conversation of fresh sessions,
// and returns the last reply.
func replyOf(t testing.TB, inputs ...bot.Input) bot.Reply {
	t.Helper()
	s := newSessions(t, memStores(), &counter{})
	var out bot.Outcome
	for _, in := range inputs {
		out = s.Handle(context.Background(), bot.Turn{Key: "test", User: "slack:UTEST", Input: in})
	}
	return out.Reply
}

// entryReply returns the engine's answer for one entry, as a click on a
// choice gets it.
func entryReply(t testing.TB, id string, lang kb.Lang) bot.Reply {
	t.Helper()
	r := replyOf(t, bot.Input{Action: bot.ActPick, Entry: id, Lang: lang})
	if r.Kind != bot.KindAnswer || r.Entry == nil {
		t.Fatalf("entry %s in %s: got a %s reply", id, lang, r.Kind)
	}
	return r
}

func text(s string) bot.Input { return bot.Input{Text: s} }

func textIn(s string, lang kb.Lang) bot.Input { return bot.Input{Text: s, Lang: lang} }

const (
	channelConv = "slack:C0001:1700000000.000100"
	cmdConv     = "slack:cmd:C0001:U0001"
	dmConv      = "slack:D0001"
)

// privateView is how a slash command's reply to echo is shown.
func privateView(echo string) view {
	return view{conv: cmdConv, echo: echo, asker: "U0001", private: true, share: true}
}

func TestGolden(t *testing.T) {
	rd := newRenderer(t)
	cases := []struct {
		name   string
		inputs []bot.Input
		kind   bot.Kind
		view   view
	}{
		{"answer-en", []bot.Input{text("Enrollment fails with 0x80180014")}, bot.KindAnswer, view{conv: channelConv}},
		{"answer-nl", []bot.Input{text(dutchError)}, bot.KindAnswer, view{conv: channelConv}},
		{"answer-ephemeral-en", []bot.Input{text("<!channel> 0x80180026 & more")}, bot.KindAnswer,
			privateView("<!channel> 0x80180026 & more")},
		{"answer-followup-en", []bot.Input{text("0x80180026"), text("it happens for all users, enrolled with Autopilot")}, bot.KindAnswer,
			view{conv: channelConv}},
		{"answer-not-solved-nl", []bot.Input{textIn(autoMDMLine, kb.Dutch), {Action: bot.ActNotSolved}}, bot.KindAnswer,
			view{conv: dmConv}},
		{"choices-en", []bot.Input{text("profile installation failed")}, bot.KindChoices, view{conv: channelConv}},
		{"choices-nl", []bot.Input{textIn("not authorized", kb.Dutch)}, bot.KindChoices, view{conv: dmConv}},
		{"code-en", []bot.Input{text("0x80180010")}, bot.KindCode, view{conv: dmConv}},
		{"code-nl", []bot.Input{textIn("0x80180010", kb.Dutch)}, bot.KindCode, privateView("0x80180010")},
		{"clarify-en", []bot.Input{text("enrollment is broken")}, bot.KindClarify, view{conv: dmConv}},
		{"clarify-nl", []bot.Input{textIn("inschrijven lukt niet", kb.Dutch)}, bot.KindClarify, view{conv: dmConv}},
		{"smalltalk-en", []bot.Input{text("hi")}, bot.KindSmalltalk, view{conv: dmConv}},
		{"out-of-scope-en", []bot.Input{text("My Android phone won't enroll")}, bot.KindOutOfScope, view{conv: channelConv}},
		{"summary-en", []bot.Input{text("<!here> 0x80180014 on all laptops"), {Action: bot.ActSummary}}, bot.KindSummary, view{conv: channelConv}},
		{"handoff-de", []bot.Input{textIn("0x80180014", kb.German), {Action: bot.ActPerson}}, bot.KindHandoff, view{conv: dmConv}},
		{"limited-sv", nil, bot.KindLimited, view{conv: dmConv}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The reply is a fixture, taken from the engine by -update, so
			// that catalog edits do not move the renderer's golden files.
			replyPath := filepath.Join("testdata", c.name+".reply.json")
			var reply bot.Reply
			if *update {
				if c.inputs == nil {
					reply = newEngine(t).Limited(bot.State{}, bot.Input{Lang: kb.Swedish})
				} else {
					reply = replyOf(t, c.inputs...)
				}
				if reply.Kind != c.kind {
					t.Fatalf("the engine answered %s, the case wants %s", reply.Kind, c.kind)
				}
				writeJSON(t, replyPath, reply)
			} else {
				raw, err := os.ReadFile(replyPath)
				if err != nil {
					t.Fatalf("%v (run go test ./bot/slackbot/ -run TestGolden -update)", err)
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
				golden.Write(t, path, got)
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/slackbot/ -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendering; if the change is intended, run go test ./bot/slackbot/ -run TestGolden -update\n%s",
					path, golden.FirstDiff(string(want), string(got)))
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
	golden.Write(t, path, encodeJSON(t, v))
}

// TestCatalogWithinSlackLimits renders every entry of the built-in catalog
// in every language, the way each can be shown, and every other kind of
// reply in every language, and checks Slack's limits.
func TestCatalogWithinSlackLimits(t *testing.T) {
	rd := newRenderer(t)
	eng := newEngine(t)
	cat := eng.Catalog()
	longEcho := strings.Repeat("<!channel> & <@U0999> ", 400)
	code := replyOf(t, text("0x80180014"))
	if code.Code == nil {
		t.Fatalf("no code reply: %s", code.Kind)
	}
	views := map[string]view{
		"channel": {conv: channelConv},
		"private": privateView(longEcho),
	}
	var related []bot.Choice
	for i, entry := range cat.Entries[:maxRelated+1] {
		related = append(related, bot.Choice{N: i + 1, ID: entry.ID, Title: entry.Title.In(kb.German), Platform: entry.Platform})
	}
	n := 0
	for _, entry := range cat.Entries {
		for _, lang := range kb.Langs {
			reply := entryReply(t, entry.ID, lang)
			reply.Code = code.Code
			reply.Notices = []string{"A notice about the input."}
			reply.Choices = related
			reply.OfferPerson = true
			reply.Intro = strings.Repeat("What changed and why. ", 20)
			brief := reply
			brief.Brief = true
			brief.Words.MoreCauses = eng.Wording().Get(lang, "MoreCauses", map[string]any{"N": len(reply.Entry.Causes) - 1})
			for vn, v := range views {
				for _, r := range []bot.Reply{reply, brief} {
					msg := rd.render(r, v)
					name := fmt.Sprintf("%s/%s/%s/brief=%v", entry.ID, lang, vn, r.Brief)
					blocks := asJSON(t, msg)
					checkLimits(t, name, blocks, msg.Text)
					all := fmt.Sprint(blocks)
					causes := r.Entry.Causes
					if !strings.Contains(all, causes[0].Heading) {
						t.Errorf("%s: the first cause is missing", name)
					}
					if !r.Brief && len(causes) > 1 && !strings.Contains(all, causes[len(causes)-1].Heading) {
						t.Errorf("%s: the last cause is missing", name)
					}
					if r.Brief && len(causes) > 1 && (strings.Contains(all, causes[1].Heading) || !hasButton(blocks, actionAllCauses)) {
						t.Errorf("%s: a brief answer shows more than the first cause, or no All causes", name)
					}
					for _, id := range []string{actionSolved, actionNotSolved, actionPerson, actionRelatedPrefix} {
						if !hasButton(blocks, id) {
							t.Errorf("%s: no %s button", name, id)
						}
					}
					n++
				}
			}
		}
	}
	// Choices: every entry's title on a candidate button.
	choices := replyOf(t, text("profile installation failed"))
	if choices.Kind != bot.KindChoices {
		t.Fatalf("no choices reply: %s", choices.Kind)
	}
	for _, lang := range kb.Langs {
		for i := 0; i < len(cat.Entries); i += 4 {
			r := choices
			r.Choices = nil
			for j, entry := range cat.Entries[i:min(i+4, len(cat.Entries))] {
				r.Choices = append(r.Choices, bot.Choice{N: j + 1, ID: entry.ID, Title: entry.Title.In(lang), Platform: entry.Platform})
			}
			msg := rd.render(r, privateView(longEcho))
			checkLimits(t, fmt.Sprintf("choices %s %d", lang, i), asJSON(t, msg), msg.Text)
			n++
		}
	}
	// Every other kind, in every language.
	for _, lang := range kb.Langs {
		for _, inputs := range [][]bot.Input{
			{textIn("0x80180010", lang)},
			{textIn("enrollment is broken", lang)},
			{textIn("enrollment is broken", lang), textIn("still broken", lang), textIn("no idea", lang)},
			{textIn("hi", lang)},
			{textIn("My Android phone won't enroll", lang)},
			{textIn("how do I set up Autopilot?", lang)},
			{textIn(longEcho+" 0x80180014 "+dutchError, lang), {Action: bot.ActSummary}},
			{textIn(longEcho+" 0x80180014", lang), {Action: bot.ActPerson}},
			{{Action: bot.ActLang, Lang: lang}},
		} {
			r := replyOf(t, inputs...)
			for vn, v := range views {
				msg := rd.render(r, v)
				checkLimits(t, fmt.Sprintf("%s %s %s", r.Kind, lang, vn), asJSON(t, msg), msg.Text)
				n++
			}
		}
		r := eng.Limited(bot.State{}, bot.Input{Lang: lang})
		msg := rd.render(r, view{})
		checkLimits(t, "limited "+string(lang), asJSON(t, msg), msg.Text)
	}
	if n < len(cat.Entries)*len(kb.Langs)*len(views)*2 {
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
	reply := bot.Reply{Kind: bot.KindAnswer, Lang: kb.English, Entry: e, OfferPerson: true,
		Words: bot.Words{Steps: "Steps", Note: "Note", Source: "Source", FollowUp: "Tell me:", Platform: "Platform",
			AllCauses: "All causes", Solved: "Solved", NotSolved: "Not solved", Person: "Talk to a person",
			MoreCauses: "11 more causes."}}
	for _, brief := range []bool{false, true} {
		reply.Brief = brief
		msg := rd.render(reply, view{share: true, echo: "x", asker: "U0001", private: true})
		blocks := asJSON(t, msg)
		checkLimits(t, fmt.Sprintf("long brief=%v", brief), blocks, msg.Text)
		all := fmt.Sprint(blocks)
		// Every step of the first cause is there, whole and in order.
		last := -1
		for j := range 9 {
			i := strings.Index(all, fmt.Sprintf("Step 0.%d:", j))
			if i < last {
				t.Errorf("brief=%v: step 0.%d missing or out of order", brief, j)
			}
			last = i
		}
		if !hasButton(blocks, actionSolved) || !hasButton(blocks, actionPerson) {
			t.Errorf("brief=%v: the buttons were cut", brief)
		}
		if !brief && !strings.Contains(all, "Further causes") {
			t.Errorf("causes beyond the budget are not pointed to the source")
		}
		if brief && (!strings.Contains(all, "11 more causes.") || !hasButton(blocks, actionAllCauses)) {
			t.Errorf("a brief answer does not offer the causes it holds back")
		}
	}
}

// A title longer than a header holds is cut by characters, not bytes,
// and not repeated whole below.
func TestHeaderCutByCharacters(t *testing.T) {
	rd := newRenderer(t)
	title := strings.Repeat("Überprüfung fehlgeschlagen ", 8)
	reply := entryReply(t, "your-organization-does-not-support-this-version-of-windows", kb.German)
	reply.Entry.Title = title
	blocks := asJSON(t, rd.render(reply, view{}))
	h := headerText(blocks)
	if plainLen(h) > maxHeaderText || plainLen(h) < maxHeaderText-30 || !strings.HasSuffix(h, "…") {
		t.Errorf("header of %d characters (%d bytes): %q", plainLen(h), len(h), h)
	}
	if strings.Count(fmt.Sprint(blocks), strings.TrimSpace(title)) != 0 {
		t.Errorf("the cut title is repeated in full")
	}
	if got := cutChars(strings.Repeat("🙂", 100), 75); plainLen(got) > 75 {
		t.Errorf("cutChars kept %d UTF-16 units", plainLen(got))
	}
	if got := cutChars("short", 75); got != "short" {
		t.Errorf("cutChars changed a short text: %q", got)
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
	r := ref{Act: bot.ActPick, Conv: cmdConv, Entry: strings.Repeat("e", 171), Lang: kb.German,
		Text: strings.Repeat("<\"ü\\>", 2000)}
	v := r.encode(maxButtonValue)
	if len(v) > maxButtonValue {
		t.Fatalf("value of %d bytes", len(v))
	}
	back, err := decodeRef(v, actionPickPrefix+"1")
	if err != nil {
		t.Fatal(err)
	}
	if back.Act != bot.ActPick || back.Entry != r.Entry || back.Lang != r.Lang || back.Conv != r.Conv ||
		!strings.HasPrefix(r.Text, back.Text) || back.Text == "" {
		t.Fatalf("round trip lost the essentials: %+v", back)
	}
	short := ref{Act: bot.ActChoose, Conv: "slack:C0123456789:1700000000.000100", Question: "enrollment-method",
		Option: "auto-enrollment", Lang: kb.Swedish, Text: "some text"}
	if v := short.encode(maxOptionValue); len(v) > maxOptionValue {
		t.Fatalf("option value of %d bytes: %s", len(v), v)
	}
	for _, bad := range []string{
		"not json",
		`{"a":"fly"}`,
		`{"a":"pick"}`,
		`{"a":"choose","q":"platform"}`,
		`{"a":"lang","l":"xx"}`,
		`{"a":"pick","e":"<!channel>"}`,
		`{"a":"show","c":"teams:abc"}`,
		`{"a":"show","c":"slack:` + strings.Repeat("x", 300) + `"}`,
	} {
		if _, err := decodeRef(bad, "enroll_x"); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
	if got, _ := decodeRef(`{"a":"show","l":"xx"}`, ""); got.Lang != "" {
		t.Fatalf("an invalid language survived: %q", got.Lang)
	}
	// Buttons sent before the values carried their action still work.
	for id, want := range map[string]bot.Action{actionPickPrefix + "2": bot.ActPick, actionMore: bot.ActAllCauses,
		actionSolved: bot.ActSolved, actionNotSolved: bot.ActNotSolved, actionShare: actShare} {
		got, err := decodeRef(`{"c":"slack:C1:1.2","e":"device-cap-reached","l":"en","k":["a"],"o":true,"n":2}`, id)
		if err != nil || got.Act != want || got.Entry != "device-cap-reached" {
			t.Errorf("legacy %s: %+v %v", id, got, err)
		}
	}
}

func TestValidConversation(t *testing.T) {
	for _, c := range []struct {
		key, channel, user string
		ok                 bool
	}{
		{"slack:C1:1700000000.000100", "C1", "U1", true},
		{"slack:C2:1700000000.000100", "C1", "U1", false},
		{"slack:C1:x", "C1", "U1", false},
		{"slack:D1", "D1", "U1", true},
		{"slack:C1", "C1", "U1", false},
		{"slack:cmd:C1:U1", "C1", "U1", true},
		{"slack:cmd:C1:U2", "C1", "U1", false},
		{"slack:event:T1:Ev1", "C1", "U1", false},
	} {
		if got := validConversation(c.key, c.channel, c.user); got != c.ok {
			t.Errorf("validConversation(%q, %q, %q) = %v", c.key, c.channel, c.user, got)
		}
	}
}

// A full answer lists the causes the facts ruled out, and why.
func TestRenderRuledOut(t *testing.T) {
	e := newEngine(t)
	var st bot.State
	for _, in := range []bot.Input{{Text: "Profile installation failed. Connection to the server could not be established."},
		{Text: "these are ADE iPads"}, {Action: bot.ActAllCauses}} {
		var r bot.Reply
		r, st = e.Respond(st, in)
		if in.Action != bot.ActAllCauses {
			continue
		}
		if len(r.RuledOut) == 0 {
			t.Fatal("no cause ruled out")
		}
		data, err := json.Marshal(newRenderer(t).render(r, view{}).Blocks)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "~"+escape(r.RuledOut[0].Text)+"~") || !strings.Contains(string(data), r.RuledOut[0].Because) {
			t.Errorf("ruled-out cause not shown:\n%s", data)
		}
	}
}

func TestHandoffConfirmButtonsAreInputs(t *testing.T) {
	rd := newRenderer(t)
	reply := bot.Reply{Kind: bot.KindHandoff, Lang: kb.German, Intro: "Senden?", Summary: "Fehler: 0x80180014",
		ConfirmHandoff: true, OfferPerson: true, Words: bot.Words{Send: "An IT senden", Cancel: "Abbrechen", Person: "Mensch"}}
	blocks := asJSON(t, rd.render(reply, view{}))
	for _, tc := range []struct {
		id   string
		want bot.Action
	}{{actionHandoffSend, bot.ActHandoffSend}, {actionHandoffCancel, bot.ActHandoffCancel}} {
		btn := findButton(t, blocks, tc.id)
		r, err := decodeRef(btn["value"].(string), tc.id)
		if err != nil || r.input().Action != tc.want {
			t.Errorf("%s: decodes to %+v, %v: want action %s", tc.id, r, err, tc.want)
		}
	}
	if hasButton(blocks, actionPerson) {
		t.Error("a hand-off confirmation offers a person again")
	}
}
