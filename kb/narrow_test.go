package kb

import (
	"slices"
	"testing"
)

// TestNarrow is the ranking an Intune engineer would expect, per entry.
func TestNarrow(t *testing.T) {
	c := builtin(t)
	const conn = "profile-installation-failed-connection-to-the-server-could-not-be-established"
	tests := []struct {
		entry    string
		facts    map[string]string
		first    string   // the cause that must lead
		notFirst string   // a cause that must not lead
		out      []string // causes that must be ruled out
	}{
		{entry: conn, facts: map[string]string{"enrollment-method": "ade"}, out: []string{"corporate-only"}, notFirst: "corporate-only"},
		{entry: conn, facts: map[string]string{"devices-affected": "all", "users-affected": "all"}, first: "missing-cname"},
		{entry: conn, facts: map[string]string{"devices-affected": "one", "previously-enrolled": "yes"}, first: "previous-user-not-removed"},
		{entry: conn, facts: map[string]string{"devices-affected": "one", "other-mdm": "yes"}, first: "other-mdm"},
		{entry: conn, facts: map[string]string{"license": "yes"}, out: []string{"no-intune-licence"}},
		{entry: "auto-mdm-enroll-failed", facts: map[string]string{"users-affected": "all"}, first: "mdm-user-scope-none"},
		{entry: "auto-mdm-enroll-failed", facts: map[string]string{"upn-suffix": "non-routable"}, first: "upn-unverified-suffix"},
		{entry: "looks-like-the-mdm-terms-of-use-endpoint-is-not-correctly-configured", facts: map[string]string{"license": "yes"},
			first: "wrong-terms-of-use-url", out: []string{"no-valid-license"}},
		{entry: "registering-your-device-for-mobile-management-failed3-0x801c03ea", facts: map[string]string{"tpm": "v2"},
			first: "two-autopilot-profiles", out: []string{"tpm-not-upgraded-to-2"}},
		{entry: "securing-your-hardware-failed-0x800705b4", facts: map[string]string{"latest-updates": "no"}, first: "windows-build-too-old"},
		{entry: "securing-your-hardware-failed-0x800705b4", facts: map[string]string{"virtual-machine": "yes"}, first: "no-physical-tpm-2"},
		{entry: "this-user-is-not-authorized-to-enroll", facts: map[string]string{"windows-edition": "home"}, first: "windows-10-home"},
		{entry: "this-user-is-not-authorized-to-enroll", facts: map[string]string{"windows-edition": "pro"}, out: []string{"windows-10-home"}},
		{entry: "this-user-is-not-authorized-to-enroll", facts: map[string]string{"users-affected": "all"}, first: "device-type-restriction"},
		{entry: "ade-token-expired", facts: map[string]string{"token-renewed": "yes"}, out: []string{"ade-token-expired"}},
	}
	for _, tt := range tests {
		e, ok := c.Entry(tt.entry)
		if !ok {
			t.Fatalf("no entry %s", tt.entry)
		}
		n := c.Narrow(e, tt.facts, nil)
		if len(n.Order) == 0 {
			t.Errorf("%s %v: nothing left", tt.entry, tt.facts)
			continue
		}
		first := e.Causes[n.Order[0]].ID
		if tt.first != "" && first != tt.first {
			t.Errorf("%s %v: first %s, want %s", tt.entry, tt.facts, first, tt.first)
		}
		if tt.notFirst != "" && first == tt.notFirst {
			t.Errorf("%s %v: %s still first", tt.entry, tt.facts, first)
		}
		var out []string
		for _, ro := range n.RuledOut {
			out = append(out, e.Causes[ro.Cause].ID)
			if len(ro.Because) == 0 {
				t.Errorf("%s: %s ruled out for no reason", tt.entry, e.Causes[ro.Cause].ID)
			}
		}
		for _, id := range tt.out {
			if !slices.Contains(out, id) {
				t.Errorf("%s %v: %s not ruled out (out: %v)", tt.entry, tt.facts, id, out)
			}
		}
		if len(n.Order)+len(n.RuledOut) != len(e.Causes) {
			t.Errorf("%s: %d in play + %d out of %d causes", tt.entry, len(n.Order), len(n.RuledOut), len(e.Causes))
		}
	}
}

// With no facts, the catalog's order (the user's words aside) stands.
func TestNarrowWithoutFactsKeepsOrder(t *testing.T) {
	c := builtin(t)
	for _, e := range c.Entries {
		n := c.Narrow(e, nil, nil)
		for i, k := range n.Order {
			if i != k {
				t.Errorf("%s: order %v without facts", e.ID, n.Order)
				break
			}
		}
	}
}

func TestSeparating(t *testing.T) {
	c := builtin(t)
	e, _ := c.Entry("profile-installation-failed-connection-to-the-server-could-not-be-established")
	all := []int{0, 1, 2, 3, 4}
	qs := c.Separating(e, all, nil)
	if len(qs) == 0 || (qs[0] != "devices-affected" && qs[0] != "users-affected") {
		t.Errorf("first question %v, want the one that moves most causes", qs)
	}
	if got := c.Separating(e, all, map[string]string{"devices-affected": "one"}); slices.Contains(got, "devices-affected") {
		t.Errorf("an answered question asked again: %v", got)
	}
	if got := c.Separating(e, []int{2}, nil); got != nil {
		t.Errorf("one cause left: %v, want no question", got)
	}
	for _, q := range qs {
		if qq, _ := c.Question(q); qq.Listen {
			t.Errorf("asked %s, which is only listened for", q)
		}
	}
}

// A rule naming an unknown question or option does not load.
func TestRuleLint(t *testing.T) {
	c := builtin(t)
	var probs Problems
	add := func(file, field, format string, args ...any) {
		probs = append(probs, Problem{File: file, Field: field})
	}
	c.checkCondition(Condition{"licence": {"yes"}}, "x.toml", "causes[0].ruled_out_by", add)
	c.checkCondition(Condition{"license": {"maybe"}}, "x.toml", "causes[0].ruled_out_by", add)
	c.checkCondition(Condition{"license": {"yes"}}, "x.toml", "causes[0].ruled_out_by", add)
	if len(probs) != 2 {
		t.Errorf("%d problems, want 2 (unknown question, unknown option): %v", len(probs), probs)
	}
}
