package kb

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"
)

func TestBuiltinCatalogLoads(t *testing.T) {
	c, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Entries); got < 35 {
		t.Errorf("built-in catalog has %d entries, want at least 35 (14 iOS, 17 Windows, 4 ADE)", got)
	}
	for _, id := range []string{"device-cap-reached", "your-organization-does-not-support-this-version-of-windows", "ade-token-expired"} {
		if _, ok := c.Entry(id); !ok {
			t.Errorf("entry %q missing", id)
		}
	}
	if e, ok := c.Entry("dep-enrollment-doesnt-start"); !ok || e.ID != "ade-enrollment-doesnt-start" {
		t.Errorf("German alias dep-enrollment-doesnt-start does not lead to ade-enrollment-doesnt-start")
	}
	if n := len(c.Checklist(IOS)); n != 8 {
		t.Errorf("iOS checklist has %d questions, want 8", n)
	}
	if n := len(c.Checklist(Windows)); n != 10 {
		t.Errorf("Windows checklist has %d questions, want 10", n)
	}
}

// validEntry is a minimal entry file that passes validation.
const validEntry = `id = "x-error"
platform = "ios"
questions = ["platform"]
[source]
article = "a"
url = "https://example.com/a#x-error"
[title]
en = "X" 
nl = "X"
sv = "X"
de = "X"
[[causes]]
id = "c"
summary = { en = "s", nl = "s", sv = "s", de = "s" }
steps = { en = ["a"], nl = ["a"], sv = ["a"], de = ["a"] }
`

const validChecklist = `[[questions]]
id = "platform"
text = { en = "q", nl = "q", sv = "q", de = "q" }
`

func TestLoadReportsProblems(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		wantFile  string
		wantField string
	}{
		{"missing language", map[string]string{
			"entries/ios/x-error.toml": strings.Replace(validEntry, `sv = "X"`, ``, 1),
		}, "entries/ios/x-error.toml", "title"},
		{"empty steps", map[string]string{
			"entries/ios/x-error.toml": strings.Replace(validEntry, `steps = { en = ["a"], nl = ["a"], sv = ["a"], de = ["a"] }`, `steps = { en = [], nl = [], sv = [], de = [] }`, 1),
		}, "entries/ios/x-error.toml", "causes[0].steps"},
		{"step missing in a translation", map[string]string{
			"entries/ios/x-error.toml": strings.Replace(validEntry, `en = ["a"], nl = ["a"]`, `en = ["a", "b"], nl = ["a", "b"]`, 1),
		}, "entries/ios/x-error.toml", "causes[0].steps"},
		{"unknown question", map[string]string{
			"entries/ios/x-error.toml": strings.Replace(validEntry, `questions = ["platform"]`, `questions = ["shoe-size"]`, 1),
		}, "entries/ios/x-error.toml", "questions"},
		{"duplicate id", map[string]string{
			"entries/ios/x-error.toml": validEntry,
			"entries/ade/x-error.toml": validEntry,
		}, "entries/ios/x-error.toml", "id"},
		{"duplicate code", map[string]string{
			"entries/ios/x-error.toml": validEntry,
			"codes.toml": `[[codes]]
hex = "0x80180014"
symbol = "A"
meaning = { en = "m", nl = "m", sv = "m", de = "m" }
[[codes]]
hex = "0x80180014"
symbol = "B"
meaning = { en = "m", nl = "m", sv = "m", de = "m" }
`,
		}, "codes.toml", "codes[1].hex"},
		{"signal with a token and an event", map[string]string{
			"entries/ios/x-error.toml": validEntry + "\n[[signals]]\ntoken = \"SomeSubCode\"\nevent = 76\nlog = \"l\"\n",
		}, "entries/ios/x-error.toml", "signals[0]"},
		{"signal token of two words", map[string]string{
			"entries/ios/x-error.toml": validEntry + "\n[[signals]]\ntoken = \"Some Sub Code\"\n",
		}, "entries/ios/x-error.toml", "signals[0].token"},
		{"event without its log", map[string]string{
			"entries/ios/x-error.toml": validEntry + "\n[[signals]]\nevent = 76\n",
		}, "entries/ios/x-error.toml", "signals[0]"},
		{"signal for an unknown cause", map[string]string{
			"entries/ios/x-error.toml": validEntry + "\n[[signals]]\ntoken = \"SomeSubCode\"\ncause = \"nope\"\n",
		}, "entries/ios/x-error.toml", "signals[0].cause"},
		{"abbreviation of two words", map[string]string{
			"entries/ios/x-error.toml": validEntry,
			"glossary.toml":            "[[abbreviations]]\nshort = [\"c p\"]\nmeans = { en = \"m\", nl = \"m\", sv = \"m\", de = \"m\" }\n",
		}, "glossary.toml", "abbreviations[0].short"},
		{"abbreviation meaning missing a language", map[string]string{
			"entries/ios/x-error.toml": validEntry,
			"glossary.toml":            "[[abbreviations]]\nshort = [\"cp\"]\nmeans = { en = \"m\", nl = \"m\", sv = \"m\" }\n",
		}, "glossary.toml", "abbreviations[0].means"},
		{"misspelt field", map[string]string{
			"entries/ios/x-error.toml": "platfrom = \"ios\"\n" + validEntry,
		}, "entries/ios/x-error.toml", "platfrom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fixtureFS(t, fstest.MapFS{
				"checklist.toml": {Data: []byte(validChecklist)},
				"codes.toml":     {Data: []byte("")},
			})
			for name, data := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			_, err := Load(fsys)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load = %v, want Problems", err)
			}
			for _, p := range ps {
				if strings.HasSuffix(p.File, path.Base(tt.wantFile)) && p.Field == tt.wantField {
					return
				}
			}
			t.Errorf("no problem for %s field %s in:\n%v", tt.wantFile, tt.wantField, err)
		})
	}
}

func TestLoadAcceptsValidCatalog(t *testing.T) {
	fsys := fixtureFS(t, fstest.MapFS{
		"checklist.toml":           {Data: []byte(validChecklist)},
		"codes.toml":               {Data: []byte("")},
		"entries/ios/x-error.toml": {Data: []byte(validEntry)},
	})
	c, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := c.Entry("x-error"); !ok || e.File() != "entries/ios/x-error.toml" {
		t.Errorf("entry not indexed with its file: %+v", e)
	}
}

// fixtureFS adds the built-in conversation vocabulary and scope table to a
// test catalog, unless it brings its own.
func fixtureFS(t *testing.T, fsys fstest.MapFS) fstest.MapFS {
	t.Helper()
	for _, name := range []string{"conversation.toml", "scope.toml", "glossary.toml"} {
		if _, ok := fsys[name]; ok {
			continue
		}
		data, err := fs.ReadFile(BuiltinFS(), name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}
