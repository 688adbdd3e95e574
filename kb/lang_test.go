package kb

import "testing"

func TestLangFromLocale(t *testing.T) {
	tests := []struct {
		locale string
		want   Lang
		ok     bool
	}{
		{"nl-BE", Dutch, true}, {"nl-NL", Dutch, true}, {"de-AT", German, true}, {"de_CH", German, true},
		{"sv-FI", Swedish, true}, {"en-GB", English, true}, {"en", English, true},
		{"fr-FR", "", false}, {"", "", false}, {"not a locale!", "", false},
	}
	for _, tt := range tests {
		got, ok := LangFromLocale(tt.locale)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LangFromLocale(%q) = %q, %v; want %q, %v", tt.locale, got, ok, tt.want, tt.ok)
		}
	}
}

func TestGuessLanguage(t *testing.T) {
	m := NewMatcher(builtin(t))
	tests := []struct {
		text       string
		want       Lang
		deviceOnly bool
	}{
		{"Mijn iPhone geeft een foutmelding bij het inschrijven, wat moet ik doen?", Dutch, false},
		{"Min iPad säger att registreringen misslyckades, vad gör jag?", Swedish, false},
		{"Mein iPad zeigt einen Fehler bei der Registrierung, was soll ich tun?", German, false},
		{"My iPad shows an error when I enroll it, what should I do?", English, false},
		// Swedish words around a quoted English device message: Swedish.
		{"Windows-datorn säger 'Your organization does not support this version of Windows' när jag registrerar", Swedish, false},
		// An English device message alone: English, but only what the device said.
		{"There was a problem. Your organization does not support this version of Windows.", English, true},
		// "wie" is German, "heeft" Dutch: the function words Dutch shares
		// with Swedish ("om", "de") decide.
		{"Wie heeft om drie uur de sleutel?", Dutch, false},
		// A quoted English message's function words vote for nobody.
		{"Windows-Join bricht ab: \"Looks like we can't connect to the URL for your organization's MDM terms of use\"", German, false},
		{"0x80180014", "", false},
	}
	for _, tt := range tests {
		g := m.detector().guess(tt.text)
		if g.Lang != tt.want || (g.Lang == English && g.DeviceOnly != tt.deviceOnly) {
			t.Errorf("guess(%q) = %+v, want %q (device only %v)", tt.text, g, tt.want, tt.deviceOnly)
		}
	}
}

func TestWithoutLogLines(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Beim Join kommt das:\nLog Name: Application\nEvent ID: 76\nWas tun?", "Beim Join kommt das:\n \n \nWas tun?"},
		{"default 10:42:17.311 mobileassetd failed\nhelp", " \nhelp"},
		{"  [DeviceEnroller] failed\nsource code is fine", " \nsource code is fine"},
		{"the source: unknown", "the source: unknown"}, // a field name counts at a line's start only
		{"Mijn iPad zegt niets", "Mijn iPad zegt niets"},
	} {
		if got := withoutLogLines(c.in); got != c.want {
			t.Errorf("withoutLogLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
