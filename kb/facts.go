package kb

import (
	"slices"
	"strings"
)

// Facts reads what text says about the prerequisites checklist, in any
// turn and in the user's own words: "only her" (users-affected: one),
// "started yesterday" (when-started: worked-before), "these are ADE iPads"
// (enrollment-method: ade, platform: ios). It uses each option's phrases,
// and its words too for questions marked anywhere. A phrase after a
// negation ("not all users") does not count, and a question two options
// claim is left unanswered rather than guessed.
func (c *Catalog) Facts(text string) map[string]string {
	toks := Tokens(text)
	if len(toks) == 0 {
		return nil
	}
	var out map[string]string
	for _, q := range c.Questions {
		found := ""
		conflict := false
		for i := range q.Options {
			o := &q.Options[i]
			if !c.optionNamed(text, toks, q, o) {
				continue
			}
			if found != "" && found != o.ID {
				conflict = true
			}
			found = o.ID
		}
		if found != "" && !conflict {
			if out == nil {
				out = map[string]string{}
			}
			out[q.ID] = found
		}
	}
	return out
}

func (c *Catalog) optionNamed(text string, toks []string, q *Question, o *Option) bool {
	for _, re := range o.patterns {
		if re.MatchString(text) {
			return true
		}
	}
	for _, p := range o.phrases {
		at := find(toks, p)
		if at < 0 {
			continue
		}
		// A phrase that is itself negative ("no licence") is what it says;
		// any other after a negation is its opposite, which another option
		// names if anything does.
		if c.Talk.negations[p[0]] || !c.Talk.negated(toks[:at+1], at) {
			return true
		}
	}
	if q.Anywhere {
		for _, w := range o.wordTokens {
			if find(toks, w) >= 0 {
				return true
			}
		}
	}
	return false
}

// maxAnswerTokens bounds a reply read as a direct answer to a question: "all
// users" is an answer, a new paste that happens to contain "all" is not.
const maxAnswerTokens = 5

// AnswerTo reads a short reply as direct answers to the questions qids (the
// ones the bot just asked): an option's id, label or words ("all", "BYOD",
// "nooit"). Questions already in known are skipped. Like Facts, a question
// two options claim is left unanswered.
func (c *Catalog) AnswerTo(text string, qids []string, known map[string]string) map[string]string {
	toks := Tokens(text)
	if len(toks) == 0 || len(toks) > maxAnswerTokens {
		return nil
	}
	var out map[string]string
	for _, qid := range qids {
		if _, done := known[qid]; done {
			continue
		}
		q, ok := c.Question(qid)
		if !ok {
			continue
		}
		found, conflict := "", false
		for i := range q.Options {
			o := &q.Options[i]
			if !c.answers(toks, o) {
				continue
			}
			if found != "" && found != o.ID {
				conflict = true
			}
			found = o.ID
		}
		if found != "" && !conflict {
			if out == nil {
				out = map[string]string{}
			}
			out[qid] = found
		}
	}
	return out
}

// answers reports whether toks, as a whole, answer with option o: its id,
// its label, or its words and phrases with nothing else but fillers ("all
// users" answers "all"; "the second one" does not answer "one").
func (c *Catalog) answers(toks []string, o *Option) bool {
	whole := strings.Join(toks, " ")
	if whole == o.ID {
		return true
	}
	for _, l := range o.Label {
		if strings.Join(Tokens(l), " ") == whole {
			return true
		}
	}
	covered := make([]bool, len(toks))
	hit := false
	for _, p := range append(slices.Clone(o.wordTokens), o.phrases...) {
		if at := find(toks, p); at >= 0 {
			hit = true
			for i := at; i < at+len(p); i++ {
				covered[i] = true
			}
		}
	}
	if !hit {
		return false
	}
	return len(c.Talk.withoutFillers(toks, covered)) == 0
}
