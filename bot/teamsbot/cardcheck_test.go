package teamsbot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/enrollbot/enrollbot/bot"
)

// The Adaptive Card schema rules the bot's cards rely on, as Teams applies
// them: what each element and action type it uses requires and allows,
// since which schema version, and Teams' limits on buttons and size.

type typeRule struct {
	since    int // minor version of schema 1.x
	allowed  []string
	required []string
}

var elementRules = map[string]typeRule{
	"TextBlock":       {0, []string{"type", "id", "text", "size", "weight", "color", "isSubtle", "wrap", "spacing", "separator", "maxLines", "horizontalAlignment"}, []string{"text"}},
	"RichTextBlock":   {2, []string{"type", "id", "inlines", "spacing", "separator", "horizontalAlignment"}, []string{"inlines"}},
	"Container":       {0, []string{"type", "id", "items", "spacing", "separator", "style", "selectAction"}, []string{"items"}},
	"ActionSet":       {2, []string{"type", "id", "actions", "spacing", "separator"}, []string{"actions"}},
	"ColumnSet":       {0, []string{"type", "id", "columns", "spacing", "separator"}, []string{"columns"}},
	"Input.ChoiceSet": {0, []string{"type", "id", "choices", "style", "isMultiSelect", "value", "placeholder", "wrap", "spacing", "separator"}, []string{"id", "choices"}},
}

var columnRule = typeRule{0, []string{"type", "id", "items", "width", "verticalContentAlignment", "spacing", "separator", "style"}, []string{"items"}}

var inlineRule = typeRule{2, []string{"type", "text", "size", "weight", "color", "fontType", "isSubtle", "italic", "strikethrough", "highlight"}, []string{"text"}}

var actionRules = map[string]typeRule{
	"Action.Submit":   {0, []string{"type", "title", "style", "data", "id"}, []string{"title", "data"}},
	"Action.OpenUrl":  {0, []string{"type", "title", "style", "url", "id"}, []string{"title", "url"}},
	"Action.ShowCard": {0, []string{"type", "title", "style", "card", "id"}, []string{"title", "card"}},
}

var enums = map[string][]string{
	"size":                     {"Small", "Default", "Medium", "Large", "ExtraLarge"},
	"weight":                   {"Lighter", "Default", "Bolder"},
	"color":                    {"Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"},
	"spacing":                  {"None", "Small", "Default", "Medium", "Large", "ExtraLarge", "Padding"},
	"fontType":                 {"Default", "Monospace"},
	"verticalContentAlignment": {"Top", "Center", "Bottom"},
}

// Styles by element type: a Container's, a choice set's.
var styles = map[string][]string{
	"Container":       {"default", "emphasis"},
	"Input.ChoiceSet": {"compact", "expanded"},
}

var actionStyles = []string{"default", "positive", "destructive"}

// maxSubmitData bounds a button's data, which Teams sends back.
const maxSubmitData = 2048

// checkCard reports every rule raw breaks, as test errors naming name.
func checkCard(t testing.TB, name string, raw []byte) {
	t.Helper()
	for _, p := range cardProblems(raw) {
		t.Errorf("%s: %s", name, p)
	}
}

func cardProblems(raw []byte) []string {
	var out []string
	add := func(path, format string, args ...any) {
		out = append(out, path+": "+fmt.Sprintf(format, args...))
	}
	if len(raw) > MaxCardBytes {
		add("card", "%d bytes, over %d", len(raw), MaxCardBytes)
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		add("card", "not a JSON object: %v", err)
		return out
	}
	if root["$schema"] != CardSchema {
		add("card", "$schema %v", root["$schema"])
	}
	version, _ := root["version"].(string)
	minor := -1
	if rest, ok := strings.CutPrefix(version, "1."); ok {
		if n, err := strconv.Atoi(rest); err == nil {
			minor = n
		}
	}
	if minor < 0 || minor > 5 {
		add("card", "version %q, want 1.5 or lower", version)
	}
	if fb, _ := root["fallbackText"].(string); strings.TrimSpace(fb) == "" {
		add("card", "no fallbackText")
	}
	ck := &checker{minor: minor, add: add, inputs: map[string]int{}}
	ck.cardObject(root, "card", true)
	for id, n := range ck.inputs {
		if n > 1 {
			add("card", "%d inputs with the id %q", n, id)
		}
	}
	for _, q := range ck.chooses {
		if ck.inputs[optionInput(q)] == 0 {
			add("card", "the answer button of question %q has no choice set %q", q, optionInput(q))
		}
	}
	return out
}

// checker walks a card, noting its inputs and the answer buttons that
// need them.
type checker struct {
	minor   int
	add     func(path, format string, args ...any)
	inputs  map[string]int
	chooses []string
}

// Width estimate of a row of buttons in Teams: about 7 px a character of
// the title, 28 px of padding a button, 8 px between buttons. A row is to
// fit the 450 px a card gets in a narrow chat pane.
const (
	buttonCharPx    = 7
	buttonPaddingPx = 28
	buttonGapPx     = 8
	narrowCardPx    = 450
)

// rowWidth estimates the width of a row of buttons, in pixels.
func rowWidth(titles []string) int {
	w := 0
	for i, t := range titles {
		if i > 0 {
			w += buttonGapPx
		}
		w += utf8.RuneCountInString(t)*buttonCharPx + buttonPaddingPx
	}
	return w
}

func (ck *checker) cardObject(c map[string]any, path string, top bool) {
	add := ck.add
	allowed := []string{"type", "body", "actions"}
	if top {
		allowed = append(allowed, "$schema", "version", "fallbackText", "lang", "msteams")
	}
	checkKeys(c, path, allowed, add)
	if c["type"] != "AdaptiveCard" {
		add(path, "type %v", c["type"])
	}
	body, ok := c["body"].([]any)
	if !ok || len(body) == 0 {
		add(path, "no body")
	}
	for i, el := range body {
		ck.element(el, fmt.Sprintf("%s.body[%d]", path, i))
	}
	if acts, ok := c["actions"]; ok {
		ck.actions(acts, path+".actions")
	}
	if ms, ok := c["msteams"].(map[string]any); ok && ms["width"] != "Full" {
		add(path, "msteams width %v", ms["width"])
	}
}

func checkKeys(m map[string]any, path string, allowed []string, add func(path, format string, args ...any)) {
	for k, v := range m {
		if !slices.Contains(allowed, k) {
			add(path, "unknown property %q", k)
		}
		if vals, ok := enums[k]; ok && !slices.Contains(vals, fmt.Sprint(v)) {
			add(path, "%s %v is not one of %v", k, v, vals)
		}
		if s, ok := v.(string); ok && s == "" {
			add(path, "empty %s", k)
		}
	}
}

func (ck *checker) element(v any, path string) {
	minor, add := ck.minor, ck.add
	el, ok := v.(map[string]any)
	if !ok {
		add(path, "not an object")
		return
	}
	typ, _ := el["type"].(string)
	rule, known := elementRules[typ]
	if !known {
		add(path, "unknown element type %q", typ)
		return
	}
	if rule.since > minor {
		add(path, "%s needs schema 1.%d, the card declares 1.%d", typ, rule.since, minor)
	}
	checkKeys(el, path, rule.allowed, add)
	for _, r := range rule.required {
		if _, ok := el[r]; !ok {
			add(path, "%s without %s", typ, r)
		}
	}
	if s, ok := el["style"]; ok && !slices.Contains(styles[typ], fmt.Sprint(s)) {
		add(path, "%s style %v", typ, s)
	}
	switch typ {
	case "TextBlock":
		s, _ := el["text"].(string)
		if strings.TrimSpace(s) == "" {
			add(path, "TextBlock without text")
		}
		if strings.Contains(s, "`") {
			add(path, "TextBlock shows a literal backtick: %q", s)
		}
		if wrap, _ := el["wrap"].(bool); !wrap {
			add(path, "TextBlock without wrap cuts its text to one line")
		}
	case "RichTextBlock":
		inlines, _ := el["inlines"].([]any)
		if len(inlines) == 0 {
			add(path, "RichTextBlock without inlines")
		}
		text := ""
		for i, x := range inlines {
			in, ok := x.(map[string]any)
			p := fmt.Sprintf("%s.inlines[%d]", path, i)
			if !ok || in["type"] != "TextRun" {
				add(p, "not a TextRun")
				continue
			}
			checkKeys(in, p, inlineRule.allowed, add)
			s, _ := in["text"].(string)
			text += s
		}
		if strings.TrimSpace(text) == "" {
			add(path, "RichTextBlock shows nothing")
		}
	case "Container":
		items, _ := el["items"].([]any)
		if len(items) == 0 {
			add(path, "Container without items")
		}
		for i, x := range items {
			ck.element(x, fmt.Sprintf("%s.items[%d]", path, i))
		}
	case "ColumnSet":
		cols, _ := el["columns"].([]any)
		if len(cols) == 0 {
			add(path, "ColumnSet without columns")
		}
		for i, x := range cols {
			p := fmt.Sprintf("%s.columns[%d]", path, i)
			col, ok := x.(map[string]any)
			if !ok || col["type"] != "Column" {
				add(p, "not a Column")
				continue
			}
			checkKeys(col, p, columnRule.allowed, add)
			switch w := fmt.Sprint(col["width"]); {
			case w == "auto" || w == "stretch":
			default:
				add(p, "width %v", col["width"])
			}
			items, _ := col["items"].([]any)
			if len(items) == 0 {
				add(p, "Column without items")
			}
			for j, it := range items {
				ck.element(it, fmt.Sprintf("%s.items[%d]", p, j))
			}
		}
	case "ActionSet":
		acts, _ := el["actions"].([]any)
		if len(acts) == 0 {
			add(path, "ActionSet without actions")
		}
		ck.actions(el["actions"], path+".actions")
	case "Input.ChoiceSet":
		id, _ := el["id"].(string)
		ck.inputs[id]++
		choices, _ := el["choices"].([]any)
		if len(choices) == 0 {
			add(path, "choice set without choices")
		}
		for i, x := range choices {
			c, _ := x.(map[string]any)
			p := fmt.Sprintf("%s.choices[%d]", path, i)
			checkKeys(c, p, []string{"title", "value"}, add)
			if t, _ := c["title"].(string); strings.TrimSpace(t) == "" {
				add(p, "choice without a title")
			}
			if v, _ := c["value"].(string); v == "" || len(v) > maxDataID {
				add(p, "choice value %q", v)
			}
		}
	}
}

func (ck *checker) actions(v any, path string) {
	minor, add := ck.minor, ck.add
	acts, ok := v.([]any)
	if !ok {
		add(path, "not an array")
		return
	}
	if len(acts) > MaxActions {
		add(path, "%d actions, Teams shows at most %d", len(acts), MaxActions)
	}
	var titles []string
	for _, x := range acts {
		if a, ok := x.(map[string]any); ok {
			titles = append(titles, fmt.Sprint(a["title"]))
		}
	}
	if w := rowWidth(titles); w > narrowCardPx {
		add(path, "buttons %q take about %d px, more than the %d px of a narrow card: titles would be cut", titles, w, narrowCardPx)
	}
	for i, x := range acts {
		p := fmt.Sprintf("%s[%d]", path, i)
		a, ok := x.(map[string]any)
		if !ok {
			add(p, "not an object")
			continue
		}
		typ, _ := a["type"].(string)
		rule, known := actionRules[typ]
		if !known {
			add(p, "unknown action type %q", typ)
			continue
		}
		checkKeys(a, p, rule.allowed, add)
		for _, r := range rule.required {
			if _, ok := a[r]; !ok {
				add(p, "%s without %s", typ, r)
			}
		}
		title, _ := a["title"].(string)
		if strings.TrimSpace(title) == "" || utf8.RuneCountInString(title) > maxButtonTitle {
			add(p, "title %q", title)
		}
		if s, ok := a["style"]; ok && !slices.Contains(actionStyles, fmt.Sprint(s)) {
			add(p, "style %v", s)
		}
		if s, ok := a["style"]; ok && s != nil && minor < 2 {
			add(p, "action style needs schema 1.2")
		}
		switch typ {
		case "Action.Submit":
			data, ok := a["data"].(map[string]any)
			if !ok {
				add(p, "data is not an object")
				break
			}
			action, _ := data["enrollbot"].(string)
			if !slices.Contains(bot.Actions, bot.Action(action)) {
				add(p, "data names no action of the engine's: %v", data)
			}
			if q, _ := data["q"].(string); action == string(bot.ActChoose) && data["o"] == nil {
				ck.chooses = append(ck.chooses, q)
			}
			if raw, _ := json.Marshal(data); len(raw) > maxSubmitData {
				add(p, "data of %d bytes", len(raw))
			}
			if back, err := json.Marshal(data); err == nil {
				if _, ok := parseSubmit(back); !ok {
					add(p, "the bot would not read its own data %s", back)
				}
			}
		case "Action.OpenUrl":
			u, err := url.Parse(fmt.Sprint(a["url"]))
			if err != nil || u.Scheme != "https" || u.Host == "" {
				add(p, "url %v is not https", a["url"])
			}
		case "Action.ShowCard":
			c, ok := a["card"].(map[string]any)
			if !ok {
				add(p, "card is not an object")
				break
			}
			ck.cardObject(c, p+".card", false)
		}
	}
}

func TestCardCheckerCatchesProblems(t *testing.T) {
	good := `{"$schema":"` + CardSchema + `","type":"AdaptiveCard","version":"1.2","fallbackText":"x",` +
		`"body":[{"type":"RichTextBlock","inlines":[{"type":"TextRun","text":"hi"}]}]}`
	if p := cardProblems([]byte(good)); len(p) != 0 {
		t.Fatalf("a good card: %v", p)
	}
	buttons := strings.Repeat(`{"type":"Action.OpenUrl","title":"x","url":"https://learn.microsoft.com/"},`, MaxActions+1)
	for name, bad := range map[string]string{
		"version 1.6":     strings.Replace(good, `"1.2"`, `"1.6"`, 1),
		"unknown element": strings.Replace(good, `"RichTextBlock"`, `"Carousel"`, 1),
		"missing text":    strings.Replace(good, `"text":"hi"`, `"weight":"Bolder"`, 1),
		"bad enum":        strings.Replace(good, `"text":"hi"`, `"text":"hi","size":"Huge"`, 1),
		"newer element":   strings.Replace(good, `"1.2"`, `"1.1"`, 1),
		"too many actions": strings.Replace(good, `"fallbackText":"x",`,
			`"fallbackText":"x","actions":[`+strings.TrimSuffix(buttons, ",")+`],`, 1),
		"http url": strings.Replace(good, `"fallbackText":"x",`,
			`"fallbackText":"x","actions":[{"type":"Action.OpenUrl","title":"x","url":"http://x"}],`, 1),
		"foreign submit": strings.Replace(good, `"fallbackText":"x",`,
			`"fallbackText":"x","actions":[{"type":"Action.Submit","title":"x","data":{"a":1}}],`, 1),
		"no body": strings.Replace(good, `"body":[{"type":"RichTextBlock","inlines":[{"type":"TextRun","text":"hi"}]}]`, `"body":[]`, 1),
		"backtick": strings.Replace(good, `{"type":"RichTextBlock","inlines":[{"type":"TextRun","text":"hi"}]}`,
			`{"type":"TextBlock","text":"run `+"`dsregcmd /status`"+`","wrap":true}`, 1),
		"answer without its choice set": strings.Replace(good, `"fallbackText":"x",`,
			`"fallbackText":"x","actions":[{"type":"Action.Submit","title":"OK","data":{"enrollbot":"choose","q":"platform"}}],`, 1),
		"duplicate input ids": strings.Replace(good, `{"type":"RichTextBlock"`,
			`{"type":"Input.ChoiceSet","id":"a","choices":[{"title":"x","value":"x"}]},{"type":"Input.ChoiceSet","id":"a","choices":[{"title":"y","value":"y"}]},{"type":"RichTextBlock"`, 1),
		"long button row": strings.Replace(good, `"fallbackText":"x",`,
			`"fallbackText":"x","actions":[{"type":"Action.OpenUrl","title":"`+strings.Repeat("x", 40)+`","url":"https://learn.microsoft.com/"},`+
				`{"type":"Action.OpenUrl","title":"`+strings.Repeat("y", 40)+`","url":"https://learn.microsoft.com/"}],`, 1),
	} {
		if p := cardProblems([]byte(bad)); len(p) == 0 {
			t.Errorf("%s: no problem found in %s", name, bad)
		}
	}
}
