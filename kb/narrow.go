package kb

import (
	"slices"
	"sort"
)

// Narrowing is what the facts of a conversation say about an entry's
// causes.
type Narrowing struct {
	// Order lists the causes still in play (indexes into Entry.Causes),
	// most likely first.
	Order []int
	// RuledOut lists the causes the facts exclude, with the questions whose
	// answers do.
	RuledOut []RuledOut
}

// RuledOut is a cause the facts exclude.
type RuledOut struct {
	Cause int
	// Because are the question ids whose answers rule it out.
	Because []string
}

// Narrow applies the causes' rules to facts: causes ruled out leave the
// list; the rest are ordered by how many of their likely_when conditions
// the facts meet less their unlikely_when ones, then by words (the order
// of byWords, the user's words ranked by Matcher.RankCauses), then by the
// catalog's order, which byWords keeps for ties. A nil byWords is the
// catalog's order.
func (c *Catalog) Narrow(e *Entry, facts map[string]string, byWords []int) Narrowing {
	var n Narrowing
	score := map[int]int{}
	if byWords == nil {
		byWords = make([]int, len(e.Causes))
		for i := range byWords {
			byWords[i] = i
		}
	}
	for _, i := range byWords {
		cause := &e.Causes[i]
		if because := cause.RuledOutBy.met(facts); len(because) > 0 {
			n.RuledOut = append(n.RuledOut, RuledOut{Cause: i, Because: because})
			continue
		}
		score[i] = len(cause.LikelyWhen.met(facts)) - len(cause.UnlikelyWhen.met(facts))
		n.Order = append(n.Order, i)
	}
	sort.SliceStable(n.Order, func(a, b int) bool { return score[n.Order[a]] > score[n.Order[b]] })
	return n
}

// met returns the question ids of cond whose fact is one of its options,
// in a stable order.
func (cond Condition) met(facts map[string]string) []string {
	var out []string
	for qid, opts := range cond {
		if f, ok := facts[qid]; ok && slices.Contains(opts, f) {
			out = append(out, qid)
		}
	}
	slices.Sort(out)
	return out
}

// Separating orders the questions that are worth asking about an entry
// whose causes in play are inPlay: those not yet answered whose answer
// would rule out or move a cause in play, most causes first; then the
// entry's own questions. Questions only listened for are never returned.
func (c *Catalog) Separating(e *Entry, inPlay []int, facts map[string]string) []string {
	if len(e.Causes) == 1 {
		// Nothing to separate: the entry's own questions, as before.
		return unanswered(e.Questions, facts)
	}
	if len(inPlay) < 2 {
		// One cause left: nothing more to ask but whether it helped.
		return nil
	}
	power := map[string]int{}
	for _, i := range inPlay {
		cause := &e.Causes[i]
		seen := map[string]bool{}
		for _, cond := range []Condition{cause.RuledOutBy, cause.LikelyWhen, cause.UnlikelyWhen} {
			for qid := range cond {
				seen[qid] = true
			}
		}
		for qid := range seen {
			power[qid]++
		}
	}
	var out []string
	for qid, p := range power {
		q, ok := c.Question(qid)
		if _, known := facts[qid]; known || !ok || q.Listen || p == 0 {
			continue
		}
		out = append(out, qid)
	}
	sort.Slice(out, func(a, b int) bool {
		if power[out[a]] != power[out[b]] {
			return power[out[a]] > power[out[b]]
		}
		return out[a] < out[b]
	})
	for _, qid := range unanswered(e.Questions, facts) {
		if !slices.Contains(out, qid) {
			out = append(out, qid)
		}
	}
	return out
}

func unanswered(qids []string, facts map[string]string) []string {
	var out []string
	for _, qid := range qids {
		if _, known := facts[qid]; !known {
			out = append(out, qid)
		}
	}
	return out
}
