package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps the first failure instead of
// stopping.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	if r.failed != "" {
		return
	}
	r.failed = format
	for _, a := range args {
		if s, ok := a.(string); ok {
			r.failed += " " + s
		}
	}
}

func TestCurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gen", "x_gen.go")
	r := &recorder{TB: t}
	Current(r, path, []byte("a\nb\n"), false, "go generate ./x")
	if !strings.Contains(r.failed, "go generate ./x") || strings.Contains(r.failed, "stale") {
		t.Fatalf("a missing file: %q, want the command that writes it", r.failed)
	}
	Current(t, path, []byte("a\nb\n"), true, "go generate ./x")
	if data, err := os.ReadFile(path); err != nil || string(data) != "a\nb\n" {
		t.Fatalf("update wrote %q, %v", data, err)
	}
	r = &recorder{TB: t}
	Current(r, path, []byte("a\nb\n"), false, "go generate ./x")
	if r.failed != "" {
		t.Fatalf("an equal file failed: %q", r.failed)
	}
	Current(r, path, []byte("a\nc\n"), false, "go generate ./x")
	if !strings.Contains(r.failed, "stale") || !strings.Contains(r.failed, "line 2") {
		t.Fatalf("a stale file: %q, want stale and the first differing line", r.failed)
	}
}
