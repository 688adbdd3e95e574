package plain_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/plain"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func engine(t *testing.T) *bot.Engine {
	t.Helper()
	e, err := bot.NewBuiltin(nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// goldenCases are representative replies: each kind, several languages.
var goldenCases = []struct {
	name string
	turn bot.Input
	kind bot.Kind
}{
	{"answer-en-code", bot.Input{Text: "0x80180014"}, bot.KindAnswer},
	{"answer-nl-paste", bot.Input{Text: "Mijn iPad zegt 'Apparaatlimiet bereikt', wat nu?"}, bot.KindAnswer},
	{"answer-de-causes", bot.Input{Text: "Fehler bei der Profilinstallation. Mit dem Server konnte keine Verbindung hergestellt werden."}, bot.KindAnswer},
	{"choices-sv", bot.Input{Text: "0x80cf4017", Locale: "sv-SE"}, bot.KindChoices},
	{"code-en", bot.Input{Text: "0x80180018"}, bot.KindCode},
	{"code-repaired-de", bot.Input{Text: "0x8018001", Locale: "de-DE"}, ""},
	{"clarify-en", bot.Input{Text: "enrollment doesn't work"}, bot.KindClarify},
	{"clarify-empty-nl", bot.Input{Text: "", Locale: "nl-NL"}, bot.KindClarify},
	{"out-of-scope-en", bot.Input{Text: "Something went wrong on Android"}, bot.KindOutOfScope},
	{"smalltalk-sv", bot.Input{Text: "hej", Locale: "sv-SE"}, bot.KindSmalltalk},
	{"handoff-de", bot.Input{Text: "ich brauche einen Menschen", Locale: "de-DE"}, bot.KindHandoff},
}

func TestRenderGolden(t *testing.T) {
	e := engine(t)
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := e.Respond(bot.State{}, tc.turn)
			if tc.kind != "" && r.Kind != tc.kind {
				t.Fatalf("kind %s, want %s", r.Kind, tc.kind)
			}
			got := plain.Render(r)
			path := filepath.Join("testdata", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./bot/plain -update)", err)
			}
			if got != string(want) {
				t.Errorf("rendered text differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func TestJSONContract(t *testing.T) {
	e := engine(t)
	r, _ := e.Respond(bot.State{}, bot.Input{Text: "0x80180014", Locale: "nl-NL"})
	var err error
	if err != nil {
		t.Fatal(err)
	}
	data, err := plain.MarshalJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"kind", "lang", "entry", "candidates", "code", "questions", "text"} {
		if _, ok := got[key]; !ok {
			t.Errorf("contract field %q missing in %s", key, data)
		}
	}
	if got["kind"] != "answer" || got["lang"] != "nl" || got["entry"] != "your-organization-does-not-support-this-version-of-windows" {
		t.Errorf("unexpected reply: %s", data)
	}
	code := got["code"].(map[string]any)
	if code["hex"] != "0x80180014" || code["symbol"] != "MENROLL_E_DEVICENOTSUPPORTED" {
		t.Errorf("code = %v", code)
	}
	cands := got["candidates"].([]any)
	if len(cands) != 1 || cands[0].(map[string]any)["id"] != got["entry"] {
		t.Errorf("candidates = %v", cands)
	}
	if !strings.Contains(got["text"].(string), "Windows") {
		t.Errorf("text lacks the entry: %q", got["text"])
	}
}
