package kb

import (
	"encoding/gob"
	"fmt"
	"io"
	"io/fs"
)

//go:generate go test -run TestBuiltinSnapshotIsCurrent -update .

// snapshot is the catalog as decoded from its files, before validation:
// what catalog.gob holds.
type snapshot struct {
	Questions []*Question
	Codes     []*Code
	Talk      *Talk
	Topics    []*Topic
	Glossary  *Glossary
	Entries   []*Entry
	// Files are the entries' files, in the order of Entries.
	Files []string
}

// writeSnapshot decodes the catalog in fsys, checks it, and writes its
// decoded form to w, for catalog.gob (go generate ./kb).
func writeSnapshot(w io.Writer, fsys fs.FS) error {
	s, probs, err := decodeAll(fsys)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		return probs
	}
	if _, err := fromSnapshot(s, nil); err != nil {
		return err
	}
	if err := gob.NewEncoder(w).Encode(s); err != nil {
		return fmt.Errorf("encode the catalog snapshot: %w", err)
	}
	return nil
}
