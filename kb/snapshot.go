package kb

import "slices"

//go:generate go test -run TestBuiltinSnapshotIsCurrent|TestPrebuiltIndexIsCurrent -update .

// snapshot is the catalog as decoded from its files, before validation:
// what catalog_gen.go builds without parsing.
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

// builtinSnapshot builds the built-in catalog's snapshot from Go literals
// compiled into the binary (catalog_gen.go sets it): a one-off command
// pays neither TOML parsing nor any decoding. Nil when catalog_gen.go is
// absent (deleted to regenerate it after a type changed): LoadBuiltin then
// reads the TOML files.
var builtinSnapshot func() snapshot

// prebuilt is what a matcher derives from the built-in catalog, built
// ahead of time (index_gen.go, go generate ./kb): each language's index
// and cause terms, and the language detector, as Go literals, so that a
// one-off `ask` tokenizes and stems none of the catalog.
// TestPrebuiltIndexIsCurrent keeps them equal to what the matcher builds.
type prebuilt struct {
	index    func(Lang) *langIndex
	causes   func(Lang) *lazyCauses
	detector func() *langDetector
}

// builtinPrebuilt is set by index_gen.go; nil without it.
var builtinPrebuilt *prebuilt

// prebuiltIndex returns the index built ahead of time for c, or nil when c
// has none or no longer has the entries and questions it was built for
// (a caller that replaced or resliced them): the index's positions would
// point at other entries.
func (c *Catalog) prebuiltIndex() *prebuilt {
	if c.prebuilt == nil || !slices.Equal(c.Entries, c.builtFor.entries) || !slices.Equal(c.Questions, c.builtFor.questions) {
		return nil
	}
	return c.prebuilt
}
