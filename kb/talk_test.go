package kb

import (
	"testing"
)

func TestReadIntent(t *testing.T) {
	c := builtin(t)
	tests := []struct {
		text string
		want Intent // empty: no intent
	}{
		{"hi", IntentGreeting},
		{"Hallo!", IntentGreeting},
		{"hej hej", IntentGreeting},
		{"thanks, that fixed it", IntentSolved},
		{"Danke, hat funktioniert", IntentSolved},
		{"het werkt niet", IntentNotSolved},
		{"that didn't help", IntentNotSolved},
		{"checked the UPN suffix, that didn't help", IntentNotSolved},
		{"hjälpte inte", IntentNotSolved},
		{"bedankt!", IntentThanks},
		{"tack så mycket", IntentThanks},
		{"can I talk to a human?", IntentPerson},
		{"ich brauche einen Menschen", IntentPerson},
		{"summary please", IntentSummary},
		{"what else could it be?", IntentOtherCauses},
		{"all", IntentAllCauses},
		{"all users", ""},
		{"hi, my iPad says Profile installation failed and nothing works since the update", ""},
		{"help", IntentHelp},
		{"bye", IntentGoodbye},
		{"hej då", IntentGoodbye},
		{"Device cap reached", ""},
	}
	for _, tt := range tests {
		m, ok := c.Talk.ReadIntent(tt.text)
		if tt.want == "" {
			if ok {
				t.Errorf("%q read as %s", tt.text, m.Intent)
			}
			continue
		}
		if !ok || m.Intent != tt.want {
			t.Errorf("%q: %v %v, want %s", tt.text, m.Intent, ok, tt.want)
		}
	}
}

func TestLanguageRequest(t *testing.T) {
	c := builtin(t)
	tests := map[string]Lang{
		"english please":                       English,
		"kun je in het Nederlands antwoorden?": Dutch,
		"auf Deutsch bitte":                    German,
		"på svenska tack":                      Swedish,
		"Deutsch":                              German,
		"I'm in the Dutch office":              "",
		"Profile installation failed":          "",
	}
	for text, want := range tests {
		got, ok := c.Talk.LanguageRequest(text)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v, want %q", text, got, ok, want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	c := builtin(t)
	tests := []struct {
		text string
		want int
	}{
		{"2", 2}, {"#2", 2}, {"2)", 2}, {"2.", 2}, {"the second one", 2}, {"de tweede", 2},
		{"den andra", 2}, {"die zweite", 2}, {"the last one", 3}, {"option 3", 3},
		{"it expired last week", 0}, {"5", 0}, {"second thoughts about this", 0},
	}
	for _, tt := range tests {
		got, ok := c.Talk.Ordinal(tt.text, 3)
		if tt.want == 0 {
			if ok {
				t.Errorf("%q read as pick %d", tt.text, got)
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("%q: %d %v, want %d", tt.text, got, ok, tt.want)
		}
	}
}

func TestFacts(t *testing.T) {
	c := builtin(t)
	tests := []struct {
		text string
		want map[string]string
	}{
		{"only her, the rest works", map[string]string{"users-affected": "one"}},
		{"alle Benutzer seit gestern", map[string]string{"users-affected": "all", "when-started": "worked-before"}},
		{"these are ADE iPads", map[string]string{"enrollment-method": "ade", "platform": "ios"}},
		{"she has an E3 licence", map[string]string{"license": "yes"}},
		{"no licence assigned", map[string]string{"license": "no"}},
		{"geen licentie", map[string]string{"license": "no"}},
		{"it never worked before", map[string]string{"when-started": "never-worked"}},
		{"de hele afdeling", map[string]string{"users-affected": "all"}},
		{"några användare", map[string]string{"users-affected": "some"}},
		// The subject decides users or devices: "alle Benutzer" is users.
		{"alle Benutzer", map[string]string{"users-affected": "all"}},
		{"alle Geräte", map[string]string{"devices-affected": "all"}},
		{"everyone", map[string]string{"users-affected": "all"}},
		{"alleen zij, de rest werkt", map[string]string{"users-affected": "one"}},
		{"bara hon, ingen annan", map[string]string{"users-affected": "one"}},
		{"nur bei ihr", map[string]string{"users-affected": "one"}},
		{"sinds de update", map[string]string{"when-started": "worked-before"}},
		{"har aldrig fungerat", map[string]string{"when-started": "never-worked"}},
		{"hat nie funktioniert", map[string]string{"when-started": "never-worked"}},
		{"some users, not all users", map[string]string{"users-affected": "some"}},
		// Negation and subject matter: licences.
		{"yes, she has a licence", map[string]string{"license": "yes"}},
		{"doesn't have a license", map[string]string{"license": "no"}},
		{"hon har ingen licens", map[string]string{"license": "no"}},
		{"er hat eine Lizenz", map[string]string{"license": "yes"}},
		{"keine Lizenz zugewiesen", map[string]string{"license": "no"}},
		// Enrollment methods in admin words.
		{"Hybrid-Join per GPO", map[string]string{"enrollment-method": "auto-enrollment"}},
		{"via Apple Business Manager", map[string]string{"enrollment-method": "ade"}},
		{"white glove", map[string]string{"enrollment-method": "autopilot"}},
		{"eigen apparaat van de medewerker", map[string]string{"enrollment-method": "byod"}},
		// Facts the checklist only listens for.
		{"it's a Hyper-V VM", map[string]string{"virtual-machine": "yes"}},
		{"Windows 10 Home laptop", map[string]string{"windows-edition": "home"}},
		{"TPM 2.0 is enabled", map[string]string{"tpm": "v2"}},
		{"came from a school that used Jamf", map[string]string{"other-mdm": "yes"}},
	}
	for _, tt := range tests {
		got := c.Facts(tt.text)
		for q, o := range tt.want {
			if got[q] != o {
				t.Errorf("%q: %s = %q, want %q (all: %v)", tt.text, q, got[q], o, got)
			}
		}
	}
	// A fact two options claim is not guessed.
	if got := c.Facts("one user, or maybe all users"); got["users-affected"] != "" {
		t.Errorf("two options claimed users-affected, got %q", got["users-affected"])
	}
	if got := c.AnswerTo("the second one", []string{"users-affected", "devices-affected"}, nil); len(got) != 0 {
		t.Errorf("an ordinal answered questions: %v", got)
	}
	if got := c.AnswerTo("all users", []string{"users-affected"}, nil); got["users-affected"] != "all" {
		t.Errorf("all users: %v", got)
	}
}

func TestScopeOf(t *testing.T) {
	c := builtin(t)
	if s := c.ScopeOf("Something went wrong on my Samsung Galaxy"); s.Platform == nil || s.Platform.ID != "android" {
		t.Errorf("Android phone: %+v", s)
	}
	if s := c.ScopeOf("iPad and Android both fail"); s.Platform != nil {
		t.Errorf("a covered platform named too: %+v", s.Platform)
	}
	if s := c.ScopeOf("how do I set up ADE for iPads?"); s.HowTo == nil {
		t.Error("set-up question not seen")
	}
	if s := c.ScopeOf("how do I fix error 0x80180014?"); s.HowTo != nil {
		t.Error("a fix question read as set-up")
	}
}

func FuzzTalk(f *testing.F) {
	c := builtin(f)
	for _, s := range []string{"the second one", "thanks", "auf Deutsch bitte", "'''", "2)", "\xff", "only her"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, ok := c.Talk.Ordinal(s, 4); ok && (n < 1 || n > 4) {
			t.Fatalf("pick %d out of 4", n)
		}
		if m, ok := c.Talk.ReadIntent(s); ok && m.Intent == "" {
			t.Fatal("empty intent")
		}
		if l, ok := c.Talk.LanguageRequest(s); ok && !l.Valid() {
			t.Fatalf("language %q", l)
		}
		for q, o := range c.Facts(s) {
			if _, ok := c.Question(q); !ok || o == "" {
				t.Fatalf("fact %s=%s", q, o)
			}
		}
		c.ScopeOf(s)
	})
}

func TestFactPatterns(t *testing.T) {
	c := builtin(t)
	for text, want := range map[string]string{
		"the UPN is user@contoso.local":        "non-routable",
		"sign-in name joe@corp.contoso.lan":    "non-routable",
		"mail is joe@contoso.com":              "",
		"joe@contoso.corp.com signs in":        "",
		"it's joe@contoso.local.":              "non-routable",
		"a local admin account on the machine": "",
	} {
		if got := c.Facts(text)["upn-suffix"]; got != want {
			t.Errorf("%q: upn-suffix %q, want %q", text, got, want)
		}
	}
}
