package kb

import (
	"testing"
)

func builtin(t testing.TB) *Catalog {
	t.Helper()
	c, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFindCodes(t *testing.T) {
	c := builtin(t)
	tests := []struct {
		name     string
		text     string
		want     string // canonical hex, or symbol for symbol-only codes; "" for none
		repaired bool
	}{
		{"prefixed", "error 0x80180014", "0x80180014", false},
		{"bare", "80180014", "0x80180014", false},
		{"upper case", "0X8018000A", "0x8018000a", false},
		{"bare lower hex", "code 8018000a on the PC", "0x8018000a", false},
		{"signed decimal", "HRESULT -2145910764", "0x80180014", false},
		{"unsigned decimal", "2149056532", "0x80180014", false},
		{"digit dropped", "Fout 0x801c003", "0x801c0003", true},
		{"digit doubled", "Unknown Win32 Error code: 0x80180002b", "0x8018002b", true},
		{"bare, digit doubled", "Event 76 says 80180002b", "0x8018002b", true},
		{"bare, digit dropped", "dsregcmd shows 801c003", "0x801c0003", true},
		{"bare nine digits, no HRESULT start", "ticket 123456789a", "", false},
		{"bare nine digits that repair to nothing", "80123456a", "", false},
		{"symbol", "MENROLL_E_DEVICENOTSUPPORTED", "0x80180014", false},
		{"symbol lower case", "menroll_e_devicenotsupported", "0x80180014", false},
		{"service symbol", "NoEnrollmentPolicy", "NoEnrollmentPolicy", false},
		{"camel symbol in text", "the portal says AccountNotOnboarded again", "AccountNotOnboarded", false},
		{"device cap", "DeviceCapReached", "DeviceCapReached", false},
		{"xpc", "XPC_TYPE_ERROR Connection invalid", "XPC_TYPE_ERROR", false},
		{"oobeidps", "Something went wrong. OOBEIDPS.", "OOBEIDPS", false},
		{"log line", "Event ID: 76 Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)", "0x8018002b", false},
		{"dsreg", "0x801C03EA", "0x801c03ea", false},
		{"unknown enrollment code kept", "0x8018ffff", "0x8018ffff", false},
		{"hex word without digit", "what a facade", "", false},
		{"deadbeef", "deadbeef cafe", "", false},
		{"date", "2024-05-01", "", false},
		{"date as number", "20240501", "", false},
		{"phone", "call 0612345678", "", false},
		{"small number", "Event ID: 76", "", false},
		{"success code", "0x00000000", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.FindCodes(tt.text)
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("FindCodes(%q) = %+v, want none", tt.text, got)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("FindCodes(%q) found nothing, want %s", tt.text, tt.want)
			}
			key := got[0].Hex()
			if key == "" && got[0].Code != nil {
				key = got[0].Code.Symbol
			}
			if key != tt.want {
				t.Errorf("FindCodes(%q)[0] = %s, want %s", tt.text, key, tt.want)
			}
			if got[0].Repaired != tt.repaired {
				t.Errorf("FindCodes(%q)[0].Repaired = %v, want %v", tt.text, got[0].Repaired, tt.repaired)
			}
		})
	}
}

func TestFindCodesDeduplicates(t *testing.T) {
	c := builtin(t)
	got := c.FindCodes("0x80180014 and again 80180014 and -2145910764")
	if len(got) != 1 {
		t.Fatalf("got %d mentions, want 1: %+v", len(got), got)
	}
}

func FuzzFindCodes(f *testing.F) {
	c := builtin(f)
	for _, s := range []string{"0x80180014", "-2145910764", "0x801c003", "MENROLL_E_DEVICENOTSUPPORTED", "facade", "0x", "-0x1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range c.FindCodes(s) {
			if m.Value == 0 && m.Code == nil {
				t.Fatalf("mention without value or table row: %+v", m)
			}
			if m.Value != 0 && !hexPattern.MatchString(m.Hex()) {
				t.Fatalf("bad canonical form %q", m.Hex())
			}
		}
	})
}

// Short codes the way admins write them: read when a cue word marks them
// and one enrollment code ends with them; never when several do.
func TestShorthandCodes(t *testing.T) {
	c := builtin(t)
	tests := []struct {
		text, want string
	}{
		{"Auto enrollment keeps failing with the 8002b error", "0x8018002b"},
		{"fout 8002b bij automatische inschrijving", "0x8018002b"},
		{"we get error 14 on some laptops", ""}, // no letter: not a fragment
		{"she has an E5 licence", ""},           // no cue
		{"hr 64c when enrolling", "0x8007064c"},
		{"705b4 on a self-deploying kiosk in Autopilot", "0x800705b4"}, // context, no cue
		{"the 774 error on hybrid Autopilot", "0x80070774"},            // digits: cue and context
		{"the 774 error", ""},                                          // digits, cue, no context
		{"774 devices enrolled in Intune last week", ""},               // digits, context, no cue
		{"we have 2b devices in Autopilot", ""},                        // two characters need a cue
	}
	for _, tt := range tests {
		got := ""
		for _, m := range c.FindCodes(tt.text) {
			if m.Value != 0 {
				got = m.Hex()
				if !m.Repaired {
					t.Errorf("%q: shorthand not marked as a reading", tt.text)
				}
			}
		}
		if got != tt.want {
			t.Errorf("%q: read %q, want %q", tt.text, got, tt.want)
		}
	}
}
