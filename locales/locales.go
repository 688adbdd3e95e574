// Package locales holds enrollbot's own wording (not the catalog's): the
// go-i18n message files active.{en,nl,sv,de}.toml, embedded into the binary.
package locales

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed active.*.toml
var files embed.FS

// Files returns the embedded message files.
func Files() fs.FS { return files }

//go:generate go test -run TestBuiltinMessagesAreCurrent -update .

// builtinMessages returns the embedded files' messages in the files'
// order, as Go literals compiled into the binary (messages_gen.go sets
// it), so a one-off command parses no TOML. Nil when messages_gen.go is
// absent: Builtin then parses the files.
var builtinMessages func() []fileMessages

// fileMessages is one message file's language and messages.
type fileMessages struct {
	Tag      string
	Messages []*i18n.Message
}

// Builtin returns the embedded wording as a bundle whose default language
// is English: from the compiled messages when there are, else from the
// files. TestBuiltinMessagesAreCurrent fails when the two differ.
func Builtin() (*i18n.Bundle, error) {
	if builtinMessages == nil {
		return Bundle(files)
	}
	b := i18n.NewBundle(language.English)
	for _, f := range builtinMessages() {
		tag, err := language.Parse(f.Tag)
		if err != nil {
			return nil, fmt.Errorf("message language %q: %w", f.Tag, err)
		}
		if err := b.AddMessages(tag, f.Messages...); err != nil {
			return nil, fmt.Errorf("add %s messages: %w", f.Tag, err)
		}
	}
	return b, nil
}

// Bundle loads every message file in fsys into a go-i18n bundle whose
// default language is English.
func Bundle(fsys fs.FS) (*i18n.Bundle, error) {
	b := i18n.NewBundle(language.English)
	names, err := fs.Glob(fsys, "active.*.toml")
	if err != nil {
		return nil, fmt.Errorf("list message files: %w", err)
	}
	for _, name := range names {
		mf, err := parseFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := b.AddMessages(mf.Tag, mf.Messages...); err != nil {
			return nil, fmt.Errorf("add message file %s: %w", name, err)
		}
	}
	return b, nil
}

// parseFile reads and parses one message file.
func parseFile(fsys fs.FS, name string) (*i18n.MessageFile, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read message file %s: %w", name, err)
	}
	mf, err := i18n.ParseMessageFileBytes(data, name, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
	if err != nil {
		return nil, fmt.Errorf("parse message file %s: %w", name, err)
	}
	return mf, nil
}
