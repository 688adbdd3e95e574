package locales

import (
	"testing"
	"testing/fstest"
)

func TestBuiltinWordingComplete(t *testing.T) {
	problems, err := Lint(Files())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	if _, err := Bundle(Files()); err != nil {
		t.Fatal(err)
	}
}

func TestLintFindsMissingTranslation(t *testing.T) {
	fsys := fstest.MapFS{
		"active.en.toml": {Data: []byte("Cause = \"Cause\"\nSteps = \"Steps\"\n")},
		"active.nl.toml": {Data: []byte("Cause = \"Oorzaak\"\n")},
		"active.sv.toml": {Data: []byte("Cause = \"Orsak\"\nSteps = \"Steg\"\n")},
		"active.de.toml": {Data: []byte("Cause = \"Ursache\"\nSteps = \"Schritte\"\nExtra = \"x\"\n")},
	}
	problems, err := Lint(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"active.de.toml: Extra: not in active.en.toml",
		"active.nl.toml: Steps: missing translation",
	}
	if len(problems) != len(want) {
		t.Fatalf("problems %q, want %q", problems, want)
	}
	for i := range want {
		if problems[i] != want[i] {
			t.Errorf("problem %d = %q, want %q", i, problems[i], want[i])
		}
	}
}
