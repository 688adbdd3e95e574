package locales

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Lint reports every message that active.en.toml has and another
// language's file lacks, or that a file has and English does not.
func Lint(fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "active.*.toml")
	if err != nil {
		return nil, fmt.Errorf("list message files: %w", err)
	}
	ids := map[string]map[string]bool{}
	for _, name := range names {
		var m map[string]any
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read message file %s: %w", name, err)
		}
		if err := toml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("parse message file %s: %w", name, err)
		}
		lang := strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "active."), ".toml")
		ids[lang] = map[string]bool{}
		for id := range m {
			ids[lang][id] = true
		}
	}
	en, ok := ids["en"]
	if !ok {
		return []string{"active.en.toml: missing"}, nil
	}
	var out []string
	for _, lang := range []string{"nl", "sv", "de"} {
		if ids[lang] == nil {
			out = append(out, fmt.Sprintf("active.%s.toml: missing", lang))
			continue
		}
		for id := range en {
			if !ids[lang][id] {
				out = append(out, fmt.Sprintf("active.%s.toml: %s: missing translation", lang, id))
			}
		}
		for id := range ids[lang] {
			if !en[id] {
				out = append(out, fmt.Sprintf("active.%s.toml: %s: not in active.en.toml", lang, id))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
