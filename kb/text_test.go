package kb

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStripMarkup(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"slack user mention", "<@U024BE7LH> Device Cap Reached", "Device Cap Reached"},
		{"slack special mention", "<!channel> 0x80180014", "0x80180014"},
		{"slack channel", "see <#C024BE7LR|it-support>", "see #it-support"},
		{"slack link with label", "<https://portal.manage.microsoft.com|the portal> fails", "the portal fails"},
		{"slack bare link", "<https://example.com/x>", "https://example.com/x"},
		{"bold", "*Profile Installation Failed*", "Profile Installation Failed"},
		{"italic", "_Workplace Join failed_", "Workplace Join failed"},
		{"symbol underscores survive", "XPC_TYPE_ERROR Connection invalid", "XPC_TYPE_ERROR Connection invalid"},
		{"code fence", "```\nAuto MDM Enroll: Failed\n```", "Auto MDM Enroll: Failed"},
		{"inline code", "`0x8018002b`", "0x8018002b"},
		{"quote", "> Device Cap Reached\nwhat now?", "Device Cap Reached\nwhat now?"},
		{"escaped quote", "&gt; Device Cap Reached", "Device Cap Reached"},
		{"teams mention", "<at>enrollbot</at> Fehler bei der Profilinstallation", "Fehler bei der Profilinstallation"},
		{"html", "<p>Something went <b>wrong</b>.</p>", "Something went wrong ."},
		{"entities", "AT&amp;T &lt;Company Name&gt;", "AT&T <Company Name>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(strings.Fields(Prepare(tt.in).Text), " ")
			want := strings.Join(strings.Fields(tt.want), " ")
			if got != want {
				t.Errorf("Prepare(%q).Text = %q, want %q", tt.in, got, want)
			}
		})
	}
}

func TestPrepareBadInput(t *testing.T) {
	if q := Prepare("   \n\t "); q.Text != "" {
		t.Errorf("blank input gave %q", q.Text)
	}
	q := Prepare("Device\x00 Cap\x1b Reached \xff\xfe")
	if !q.InvalidUTF8 || strings.ContainsAny(q.Text, "\x00\x1b") || !utf8.ValidString(q.Text) {
		t.Errorf("Prepare did not clean control characters and invalid UTF-8: %+v", q)
	}
	big := strings.Repeat("Profile installation failed. ", 40000) // ~1.1 MB
	q = Prepare(big)
	if !q.Truncated || utf8.RuneCountInString(q.Text) > MaxQueryRunes || utf8.RuneCountInString(q.Full) > MaxPasteRunes {
		t.Errorf("1 MB input: truncated=%v, %d runes", q.Truncated, utf8.RuneCountInString(q.Text))
	}
}

// A log puts the error anywhere: the line that carries it is matched even
// when it comes after the first MaxQueryRunes.
func TestPrepareFocusesLongPaste(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 13000; i++ {
		fmt.Fprintf(&b, "Information 03.12.2026 10:%02d:00 DeviceManagement-Enterprise-Diagnostics-Provider task %d started\n", i%60, i)
	}
	b.WriteString("Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x8018002b)\n")
	b.WriteString("Information last line\n")
	q := Prepare(b.String())
	if q.Truncated {
		t.Error("13 KB paste reported as truncated")
	}
	if !strings.Contains(q.Text, "0x8018002b") || utf8.RuneCountInString(q.Text) > MaxQueryRunes {
		t.Errorf("focused text lacks the error line or is too long (%d runes)", utf8.RuneCountInString(q.Text))
	}
	if !strings.HasSuffix(q.Full, "Information last line") {
		t.Error("Full lost the end of the paste")
	}
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{"<@U1> *x*", "<at>a</at>", "```\ncode```", "&amp;", "\xff", "_a_b_", "<https://x|y>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Prepare(s)
		if !utf8.ValidString(q.Text) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if utf8.RuneCountInString(q.Text) > MaxQueryRunes {
			t.Fatalf("%d runes, limit %d", utf8.RuneCountInString(q.Text), MaxQueryRunes)
		}
	})
}
