// Package golden keeps files that tests produce in the repository: golden
// files of rendered replies, and generated Go source that must stay equal
// to what its generator gives now. A test compares and, run with its
// -update flag, rewrites.
package golden

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Write writes a golden file, creating its folder.
func Write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Current fails t unless the file at path holds exactly got; with update
// it writes got there instead. regenerate tells what rewrites the file
// ("go generate ./kb"), for the failure message.
func Current(t testing.TB, path string, got []byte, update bool, regenerate string) {
	t.Helper()
	if update {
		Write(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: run %s", err, regenerate)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s is stale: run %s (%s)", path, regenerate, FirstDiff(string(want), string(got)))
	}
}

// FirstDiff shows the first line where want and got part.
func FirstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, w, g)
		}
	}
	return "no difference"
}
