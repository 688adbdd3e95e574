package kb

import (
	"testing"
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
