package kb

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// CodeMention is an error code found in user text.
type CodeMention struct {
	// Value is the 32-bit code; zero for symbol-only mentions.
	Value uint32
	// Raw is the text as the user wrote it.
	Raw string
	// Code is the reference-table row, nil when the table does not know it.
	Code *Code
	// Repaired is set when Raw had a digit dropped or doubled and Value is
	// the one known code it most plausibly meant.
	Repaired bool
}

// Hex returns the canonical 0x-prefixed form of the value, or "" for a
// symbol-only mention.
func (m CodeMention) Hex() string {
	if m.Value == 0 {
		return ""
	}
	return FormatHex(m.Value)
}

// FormatHex renders a code value the way the catalog writes it: 0x followed
// by eight lower-case hex digits.
func FormatHex(v uint32) string { return fmt.Sprintf("0x%08x", v) }

// parseCanonicalHex parses the catalog's own spelling of a code.
func parseCanonicalHex(s string) (uint32, bool) {
	if !hexPattern.MatchString(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[2:], 16, 32)
	return uint32(v), err == nil
}

// symbolKey folds a symbol so that MENROLL_E_DEVICENOTSUPPORTED,
// menroll_e_devicenotsupported and "No Enrollment Policy" meet.
func symbolKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// codeToken finds the shapes codes are written in: 0x-prefixed hex of any
// length (a digit may be dropped or doubled), bare hex words, and signed or
// unsigned decimals. Word boundaries are checked by the caller.
var codeToken = regexp.MustCompile(`(?i)-?\b(?:0x[0-9a-f]{1,12}|[0-9a-f]{6,12}|[0-9]{9,11})\b`)

// enrollmentFacility reports whether a value belongs to a facility whose
// unknown codes are still worth reporting as codes: MDM enrollment (0x8018),
// device registration (0x801c) and the legacy Intune client (0x80cf).
func enrollmentFacility(v uint32) bool {
	switch v >> 16 {
	case 0x8018, 0x801c, 0x80cf:
		return true
	}
	return false
}

// MaxCodes bounds the codes FindCodes returns.
const MaxCodes = 64

// FindCodes returns the error codes and symbols in text, in order of
// appearance and without duplicates.
//
// It stops at MaxCodes distinct codes: no error needs more, and a paste of
// thousands must cost no more than one of a hundred.
func (c *Catalog) FindCodes(text string) []CodeMention {
	return c.findCodes(text, symbolWords(text))
}

// findCodes is FindCodes with text's symbol words already split.
func (c *Catalog) findCodes(text string, sw []string) []CodeMention {
	var out []CodeMention
	seen := map[string]bool{}
	addMention := func(m CodeMention) {
		key := m.Hex()
		if key == "" && m.Code != nil {
			key = m.Code.Symbol
		}
		if key == "" || seen[key] {
			return
		}
		seen[key] = true
		out = append(out, m)
	}

	// Every numeric code, full or short, has a digit: text without one
	// (most device messages) skips the pattern.
	digits := strings.ContainsAny(text, "0123456789")
	if digits {
		for _, loc := range codeToken.FindAllStringIndex(text, 4*MaxCodes) {
			if len(out) >= MaxCodes {
				break
			}
			raw := text[loc[0]:loc[1]]
			if m, ok := c.parseCode(raw); ok {
				addMention(m)
			}
		}
	}
	if digits && !slices.ContainsFunc(out, func(m CodeMention) bool { return m.Value != 0 }) {
		if m, ok := c.shorthand(text); ok {
			addMention(m)
		}
	}
	for _, word := range sw {
		if len(out) >= MaxCodes {
			break
		}
		if code, ok := c.codeBySym[symbolKey(word)]; ok {
			addMention(CodeMention{Value: code.value(), Raw: word, Code: code})
		}
	}
	return out
}

// shortToken is a hex fragment with a digit and a letter: "8002b", "2b".
var shortToken = regexp.MustCompile(`^[0-9a-f]{2,5}$`)

// shorthand reads a short code ("the 8002b error", "fout 2b") as the one
// code of the table whose hex ends with it, when a cue word stands right
// next to it, or an enrollment context word anywhere in the text (three
// characters at least; digits alone need both); Repaired is set, so the
// reply says how it was read. Two codes ending alike, or neither cue nor
// context, and nothing is read.
func (c *Catalog) shorthand(text string) (CodeMention, bool) {
	if c.Talk == nil {
		return CodeMention{}, false
	}
	toks := Tokens(text)
	if len(toks) > 64 {
		return CodeMention{}, false
	}
	var found *Code
	raw := ""
	context := slices.ContainsFunc(toks, func(w string) bool { return c.Talk.codeCtx[w] })
	for i, w := range toks {
		if !shortToken.MatchString(w) || !strings.ContainsAny(w, "0123456789") {
			continue
		}
		cued := (i > 0 && c.Talk.codeCues[toks[i-1]]) || (i+1 < len(toks) && c.Talk.codeCues[toks[i+1]])
		var read bool
		if strings.ContainsAny(w, "abcdef") {
			read = cued || (context && len(w) >= 3)
		} else {
			// Digits alone are too often a count or a date: they need the
			// cue and the context.
			read = cued && context && len(w) >= 3
		}
		if !read {
			continue
		}
		for _, code := range c.Codes {
			v := code.value()
			if v == 0 || !strings.HasSuffix(fmt.Sprintf("%08x", v), w) {
				continue
			}
			if found != nil && found != code {
				return CodeMention{}, false
			}
			found, raw = code, w
		}
	}
	if found == nil {
		return CodeMention{}, false
	}
	return CodeMention{Value: found.value(), Raw: raw, Code: found, Repaired: true}, true
}

// value returns the numeric value of a table row, zero for symbol-only rows.
func (code *Code) value() uint32 {
	v, _ := parseCanonicalHex(code.Hex)
	return v
}

// parseCode interprets one code-shaped token. It accepts a value when the
// table knows it, or when it is an explicit 0x code or a bare hex word of a
// known enrollment facility; plain numbers (dates, phone numbers) must be in
// the table to count.
func (c *Catalog) parseCode(raw string) (CodeMention, bool) {
	s := strings.ToLower(raw)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	prefixed := strings.HasPrefix(s, "0x")
	digits := strings.TrimPrefix(s, "0x")

	if !prefixed && isDecimal(digits) && len(digits) >= 9 {
		// Event logs and co-management reports print HRESULTs as decimals.
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return CodeMention{}, false
		}
		if neg {
			n = -n
		}
		if n < -1<<31 || n >= 1<<32 {
			return CodeMention{}, false
		}
		v := uint32(n)
		if code, ok := c.codeByHex[v]; ok {
			return CodeMention{Value: v, Raw: raw, Code: code}, true
		}
		return CodeMention{}, false
	}
	if neg {
		return CodeMention{}, false
	}
	if !strings.ContainsAny(digits, "0123456789") {
		return CodeMention{}, false // "facade", "deadbeef": words, not codes
	}
	if !prefixed && len(digits) != 8 {
		// A bare code with a digit dropped or doubled ("80180002b", as one
		// Learn article prints it) is read only when it starts like an
		// HRESULT and repairs to one code of the table.
		if (len(digits) == 7 || len(digits) == 9) && strings.HasPrefix(digits, "80") {
			if v, ok := c.repairCode(digits); ok {
				return CodeMention{Value: v, Raw: raw, Code: c.codeByHex[v], Repaired: true}, true
			}
		}
		return CodeMention{}, false
	}
	if len(digits) == 8 {
		v64, err := strconv.ParseUint(digits, 16, 32)
		if err != nil {
			return CodeMention{}, false
		}
		v := uint32(v64)
		code := c.codeByHex[v]
		if code == nil && !prefixed && !enrollmentFacility(v) {
			return CodeMention{}, false
		}
		if code == nil && prefixed && v&0x80000000 == 0 {
			return CodeMention{}, false // a success code or a small number: nothing to troubleshoot
		}
		return CodeMention{Value: v, Raw: raw, Code: code}, true
	}
	if v, ok := c.repairCode(digits); ok {
		return CodeMention{Value: v, Raw: raw, Code: c.codeByHex[v], Repaired: true}, true
	}
	return CodeMention{}, false
}

// repairCode maps a 0x code with one digit too few or too many onto the one
// known code it can be. Doubled and dropped repeats are tried first because
// they are the typos the Learn articles themselves contain (0x801c003,
// 0x80180002b); any other single insertion only counts when unambiguous.
func (c *Catalog) repairCode(digits string) (uint32, bool) {
	known := func(cands []string) []uint32 {
		var vals []uint32
		seen := map[uint32]bool{}
		for _, cand := range cands {
			v, err := strconv.ParseUint(cand, 16, 32)
			if err != nil || len(cand) != 8 {
				continue
			}
			if _, ok := c.codeByHex[uint32(v)]; ok && !seen[uint32(v)] {
				seen[uint32(v)] = true
				vals = append(vals, uint32(v))
			}
		}
		return vals
	}
	var repeats, others []string
	switch len(digits) {
	case 9:
		for i := 0; i < len(digits); i++ {
			cand := digits[:i] + digits[i+1:]
			if (i > 0 && digits[i-1] == digits[i]) || (i+1 < len(digits) && digits[i+1] == digits[i]) {
				repeats = append(repeats, cand)
			} else {
				others = append(others, cand)
			}
		}
	case 7:
		const hexDigits = "0123456789abcdef"
		for i := 0; i <= len(digits); i++ {
			for _, d := range hexDigits {
				cand := digits[:i] + string(d) + digits[i:]
				if (i > 0 && digits[i-1] == byte(d)) || (i < len(digits) && digits[i] == byte(d)) {
					repeats = append(repeats, cand)
				} else {
					others = append(others, cand)
				}
			}
		}
	default:
		return 0, false
	}
	if vals := known(repeats); len(vals) == 1 {
		return vals[0], true
	} else if len(vals) > 1 {
		return 0, false
	}
	if vals := known(others); len(vals) == 1 {
		return vals[0], true
	}
	return 0, false
}

func isDecimal(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// symbolWords splits text into candidate symbols: runs of letters, digits
// and underscores, so XPC_TYPE_ERROR and MENROLL_E_USERLICENSE stay whole.
func symbolWords(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
	})
}
