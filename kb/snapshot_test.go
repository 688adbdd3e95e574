package kb

import (
	"bytes"
	"encoding/gob"
	"flag"
	"os"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite catalog.gob from the TOML files")

// TestBuiltinSnapshotIsCurrent keeps catalog.gob, the built-in catalog
// decoded ahead of time, equal to the TOML files it comes from: a catalog
// edit without `go generate ./kb` fails here.
func TestBuiltinSnapshotIsCurrent(t *testing.T) {
	if *update {
		var b bytes.Buffer
		if err := writeSnapshot(&b, BuiltinFS()); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("catalog.gob", b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	fromTOML, probs, err := decodeAll(BuiltinFS())
	if err != nil || len(probs) > 0 {
		t.Fatalf("decode the TOML files: %v %v", err, probs)
	}
	data, err := os.ReadFile("catalog.gob")
	if err != nil {
		t.Fatal(err)
	}
	var fromGob snapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&fromGob); err != nil {
		t.Fatalf("decode catalog.gob: %v", err)
	}
	if !reflect.DeepEqual(normalize(fromTOML), normalize(fromGob)) {
		t.Fatal("catalog.gob is stale: run go generate ./kb")
	}
	// And what LoadBuiltin returns is the TOML files' catalog.
	a, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(BuiltinFS())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Entries) != len(b.Entries) || a.Entries[0].File() != b.Entries[0].File() {
		t.Error("LoadBuiltin and Load(BuiltinFS()) differ")
	}
}

// normalize round-trips a snapshot through gob, so that what gob cannot
// tell apart (an empty and a nil slice or map) compares equal.
func normalize(s snapshot) snapshot {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(s); err != nil {
		panic(err)
	}
	var out snapshot
	if err := gob.NewDecoder(&b).Decode(&out); err != nil {
		panic(err)
	}
	return out
}
