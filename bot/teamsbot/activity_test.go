package teamsbot

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

func TestCleanText(t *testing.T) {
	bot := map[string]any{"id": testBotID, "name": testBotName}
	mention := func(text string) map[string]any {
		return map[string]any{"type": "mention", "text": text, "mentioned": map[string]any{"id": testBotID, "name": testBotName}}
	}
	cases := []struct {
		text     string
		entities []any
		want     string
	}{
		{"<at>enrollbot</at> Fehler 0x80180014", []any{mention("<at>enrollbot</at>")}, "Fehler 0x80180014"},
		{"<at>Enroll Bot</at>  2", []any{mention("<at>Enroll Bot</at>")}, "2"},
		{"hey <at>enrollbot</at>, <at>Megan Bowen</at> gets 0x80180014 &amp; more", []any{mention("<at>enrollbot</at>")},
			"hey , Megan Bowen gets 0x80180014 & more"},
		{"<at>ENROLLBOT</at> lang nl", nil, "lang nl"},
		{"<p>Profile installation failed</p><p>A network error&nbsp;has occurred</p>", nil,
			"Profile installation failed\nA network error has occurred"},
		{"line one<br>line   two\n\tindented <b>0x8018</b>0014", nil, "line one\nline two\nindented 0x80180014"},
		{"&lt;at&gt;enrollbot&lt;/at&gt; literal", nil, "<at>enrollbot</at> literal"},
		{"", nil, ""},
	}
	for _, c := range cases {
		raw, _ := json.Marshal(map[string]any{"type": "message", "text": c.text, "recipient": bot, "entities": c.entities})
		in, err := parseActivity(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := in.cleanText(); got != c.want {
			t.Errorf("cleanText(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestScopeAndThread(t *testing.T) {
	cases := []struct {
		conv   string
		scope  scope
		thread string
	}{
		{`{"id":"a:1","conversationType":"personal"}`, scopePersonal, "a:1"},
		{`{"id":"19:c@thread.tacv2;messageid=42","conversationType":"channel","isGroup":true}`, scopeChannel, "19:c@thread.tacv2;messageid=42"},
		{`{"id":"19:c@thread.tacv2","conversationType":"channel"}`, scopeChannel, "19:c@thread.tacv2;messageid=77"},
		{`{"id":"19:g@thread.v2","conversationType":"groupChat","isGroup":true}`, scopeGroup, "19:g@thread.v2"},
		{`{"id":"emulator-conv"}`, scopePersonal, "emulator-conv"},
		{`{"id":"x","isGroup":true}`, scopeGroup, "x"},
		{`{"id":"x","conversationType":"meeting"}`, 0, "x"},
	}
	for _, c := range cases {
		in, err := parseActivity([]byte(`{"type":"message","id":"77","conversation":` + c.conv + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if in.scope() != c.scope || in.thread() != c.thread {
			t.Errorf("%s: scope %v thread %q, want %v %q", c.conv, in.scope(), in.thread(), c.scope, c.thread)
		}
	}
}

func TestParseSubmit(t *testing.T) {
	for _, c := range []struct {
		raw  string
		ok   bool
		want submitData
	}{
		{`{"enrollbot":"pick","e":"device-cap-reached","l":"de"}`, true, submitData{Action: "pick", Entry: "device-cap-reached", Lang: "de"}},
		{`{"enrollbot":"choose","q":"platform","o:platform":"ios","o:other":"x","l":"xx"}`, true, submitData{Action: "choose", Question: "platform", Option: "ios"}},
		{`{"enrollbot":"choose","q":"platform","o":"windows","o:platform":"ios"}`, true, submitData{Action: "choose", Question: "platform", Option: "windows"}},
		{`{"enrollbot":"choose","q":"platform"}`, true, submitData{Action: "choose", Question: "platform"}},
		{`{"enrollbot":"choose","q":"platform","o:platform":7}`, true, submitData{Action: "choose", Question: "platform"}},
		{`{"enrollbot":"choose","o":"ios"}`, false, submitData{}}, // names no question
		{`{"enrollbot":"solved","e":"x","l":"sv"}`, true, submitData{Action: "solved", Entry: "x", Lang: "sv"}},
		{`{"enrollbot":"not-solved","e":"x"}`, true, submitData{Action: "not_solved", Entry: "x"}},
		{`{"enrollbot":"answer","e":"x","q":"users-affected","o":"one","t":"One user","k":["a"]}`, true,
			submitData{Action: "choose", Entry: "x", Question: "users-affected", Option: "one"}},
		{`{"enrollbot":"lang","l":"nl"}`, true, submitData{Action: "lang", Lang: "nl"}},
		{`{"enrollbot":"lang","l":"xx"}`, false, submitData{}},
		{`{"enrollbot":"person"}`, true, submitData{Action: "person"}},
		{`{"enrollbot":"all_causes","l":"de"}`, true, submitData{Action: "all_causes", Lang: "de"}},
		{`{"enrollbot":"solved"}`, false, submitData{}}, // names no entry
		{`{"enrollbot":"pick"}`, false, submitData{}},
		{`{"enrollbot":"delete-everything","e":"x"}`, false, submitData{}},
		{`{"enrollbot":""}`, false, submitData{}},
		{`{"action":"other app"}`, false, submitData{}},
		{`"string"`, false, submitData{}},
		{`[1]`, false, submitData{}},
		{``, false, submitData{}},
	} {
		d, ok := parseSubmit(json.RawMessage(c.raw))
		if ok != c.ok || d != c.want {
			t.Errorf("%s: %+v %v, want %+v %v", c.raw, d, ok, c.want, c.ok)
		}
	}
	long := strings.Repeat("é", maxDataID)
	d, ok := parseSubmit(json.RawMessage(`{"enrollbot":"choose","q":"` + long + `","o:` + long + `":"` + long + `"}`))
	if !ok || len(d.Question) > maxDataID || len(d.Option) > maxDataID || !utf8.ValidString(d.Option) {
		t.Errorf("long data not bounded: %d, %d bytes", len(d.Question), len(d.Option))
	}
}

// A click's input: the action and what it needs, the card's language as
// the locale (a language chosen for ActLang), never text.
func TestSubmitInput(t *testing.T) {
	in := submitData{Action: "pick", Entry: "x", Lang: "de"}.input("en-US")
	if in != (bot.Input{Action: bot.ActPick, Entry: "x", Locale: "de"}) {
		t.Errorf("pick: %+v", in)
	}
	in = submitData{Action: "lang", Lang: "sv"}.input("en-US")
	if in != (bot.Input{Action: bot.ActLang, Lang: kb.Swedish, Locale: "en-US"}) {
		t.Errorf("lang: %+v", in)
	}
	in = submitData{Action: "choose", Question: "q", Option: "o"}.input("nl-BE")
	if in != (bot.Input{Action: bot.ActChoose, Question: "q", Option: "o", Locale: "nl-BE"}) {
		t.Errorf("choose: %+v", in)
	}
}
