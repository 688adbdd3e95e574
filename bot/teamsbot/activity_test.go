package teamsbot

import (
	"encoding/json"
	"testing"
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
		raw string
		ok  bool
	}{
		{`{"enrollbot":"pick","e":"device-cap-reached","n":2,"l":"de"}`, true},
		{`{"enrollbot":"answer","q":"platform","o":"ios","t":"iOS/iPadOS","l":"xx"}`, true},
		{`{"enrollbot":"solved"}`, false}, // names no entry
		{`{"enrollbot":"delete-everything","e":"x"}`, false},
		{`{"action":"other app"}`, false},
		{`"string"`, false},
		{`[1]`, false},
		{``, false},
	} {
		d, ok := parseSubmit(json.RawMessage(c.raw))
		if ok != c.ok {
			t.Errorf("%s: ok %v", c.raw, ok)
		}
		if ok && d.Lang != "" && !d.Lang.Valid() {
			t.Errorf("%s: language %q kept", c.raw, d.Lang)
		}
	}
}
