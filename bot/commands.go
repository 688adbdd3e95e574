package bot

import (
	"strings"

	"github.com/enrollbot/enrollbot/kb"
)

// ParseLangCommand reads the language command every channel shares: "lang
// nl" (a language), "lang auto" (clear the choice). ok is false when text is
// not the command; lang is empty and clear false when the argument is not
// a language (the caller shows the usage).
func ParseLangCommand(text string) (lang kb.Lang, clear, ok bool) {
	fields := strings.Fields(strings.ToLower(strings.TrimSpace(text)))
	if len(fields) == 0 || len(fields) > 2 || fields[0] != "lang" {
		return "", false, false
	}
	if len(fields) == 1 {
		return "", false, true
	}
	switch fields[1] {
	case "auto", "reset", "off":
		return "", true, true
	}
	l, valid := kb.LangFromLocale(fields[1])
	if !valid {
		return "", false, true
	}
	return l, false, true
}
