package kb

import "testing"

// The built-in catalog uses no retired name and no banned variant.
func TestCatalogTerms(t *testing.T) {
	for _, p := range builtin(t).LintTerms() {
		t.Error(p)
	}
}

func TestLintTermsFinds(t *testing.T) {
	c := builtin(t)
	e := &Entry{ID: "x", file: "entries/x.toml", Title: Text{English: "Open the Microsoft Endpoint Manager admin center"},
		Causes: []Cause{{ID: "c", Summary: Text{German: "Öffnen Sie Azure AD."}, Steps: List{Dutch: {"Ga naar Microsoft Entra ID."}}}}}
	saved := c.Entries
	c.Entries = []*Entry{e}
	defer func() { c.Entries = saved }()
	probs := c.LintTerms()
	fields := map[string]bool{}
	for _, p := range probs {
		fields[p.Field] = true
	}
	if !fields["title.en"] || !fields["causes[0].summary.de"] || fields["causes[0].steps.nl"] {
		t.Errorf("problems %v", probs)
	}
	e.Keeps = []string{"Endpoint Manager", "Azure AD"}
	if probs := c.LintTerms(); len(probs) != 0 {
		t.Errorf("kept names still reported: %v", probs)
	}
	for text, want := range map[string]bool{"use aad join": true, "maadsen": false, "azure ad.": true, "azure adx": false} {
		if got := containsTerm(text, "aad") || containsTerm(text, "azure ad"); got != want {
			t.Errorf("containsTerm(%q) = %v", text, got)
		}
	}
}
