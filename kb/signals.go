package kb

import (
	"regexp"
	"strconv"
	"strings"
)

// eventMention reads an event id as event logs and admins write it:
// "Event 76", "Event ID: 30132", "gebeurtenis-id 30132", "Ereignis 7016".
var eventMention = regexp.MustCompile(`(?i)(?:^|[^\pL])(?:event|ereignis|gebeurtenis|händelse|handelse)(?:[ -]?id)?\s*[:#]?\s*(\d{2,5})\b`)

// SignalMention is a signal of the catalog found in a query.
type SignalMention struct {
	// Entry is the entry the signal points to.
	Entry *Entry
	// Cause is the id of the cause it names; empty for the entry.
	Cause string
	// Raw is the signal as written ("AADSTS50155", "Event 76").
	Raw string
	// Event reports an event id rather than a token.
	Event bool
}

// signalTarget is what one signal points to.
type signalTarget struct {
	entry int
	cause string
}

// indexSignals links the entries' signals, for findSignals.
func (m *Matcher) indexSignals() {
	m.signalTokens = map[string][]signalTarget{}
	m.signalEvents = map[int][]signalTarget{}
	for i, e := range m.cat.Entries {
		for _, s := range e.Signals {
			t := signalTarget{entry: i, cause: s.Cause}
			if s.Token != "" {
				key := strings.ToLower(s.Token)
				m.signalTokens[key] = append(m.signalTokens[key], t)
			}
			if s.Event != 0 {
				m.signalEvents[s.Event] = append(m.signalEvents[s.Event], t)
			}
		}
	}
}

// findSignals returns the catalog's signals in text, in order: tokens
// (whole words) and event ids.
func (m *Matcher) findSignals(text string) []SignalMention {
	return m.signalsIn(text, symbolWords(text), true)
}

// eventWords are the words an event id follows (eventMention).
var eventWords = map[string]bool{"event": true, "ereignis": true, "gebeurtenis": true, "händelse": true, "handelse": true}

// signalsIn is findSignals with text's symbol words already split, and
// whether text may name an event at all (eventWords), so that a query
// pays for neither twice.
func (m *Matcher) signalsIn(text string, sw []string, events bool) []SignalMention {
	if len(m.signalTokens) == 0 && len(m.signalEvents) == 0 {
		return nil
	}
	var out []SignalMention
	seen := map[signalTarget]bool{}
	add := func(ts []signalTarget, raw string, event bool) {
		for _, t := range ts {
			if seen[t] {
				continue
			}
			seen[t] = true
			out = append(out, SignalMention{Entry: m.cat.Entries[t.entry], Cause: t.cause, Raw: raw, Event: event})
		}
	}
	if len(m.signalTokens) > 0 {
		for _, w := range sw {
			if ts, ok := m.signalTokens[strings.ToLower(w)]; ok {
				add(ts, w, false)
			}
		}
	}
	if len(m.signalEvents) > 0 && events {
		for _, sm := range eventMention.FindAllStringSubmatch(text, MaxCodes) {
			id, err := strconv.Atoi(sm[1])
			if err != nil {
				continue
			}
			if ts, ok := m.signalEvents[id]; ok {
				add(ts, strings.TrimSpace(sm[0]), true)
			}
		}
	}
	return out
}
