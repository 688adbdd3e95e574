package slackbot

import (
	"encoding/json"
	"strings"
	"testing"
)

// checkLimits fails t when blocks break one of Slack's limits.
func checkLimits(t *testing.T, name string, blocks []map[string]any, text string) {
	t.Helper()
	if len(blocks) > maxBlocks {
		t.Errorf("%s: %d blocks, max %d", name, len(blocks), maxBlocks)
	}
	if len(text) > maxFallback || strings.TrimSpace(text) == "" {
		t.Errorf("%s: fallback text of %d bytes", name, len(text))
	}
	ids := map[string]bool{}
	actions := map[string]bool{}
	for i, b := range blocks {
		if id, _ := b["block_id"].(string); id != "" {
			if len(id) > maxBlockID {
				t.Errorf("%s: block %d id of %d bytes", name, i, len(id))
			}
			if ids[id] {
				t.Errorf("%s: block id %q twice", name, id)
			}
			ids[id] = true
		}
		switch b["type"] {
		case "header":
			if s := textOf(b["text"]); plainLen(s) > maxHeaderText || s == "" {
				t.Errorf("%s: header of %d characters", name, plainLen(s))
			}
		case "section":
			if s := textOf(b["text"]); len(s) > maxSectionText || strings.TrimSpace(s) == "" {
				t.Errorf("%s: section of %d bytes", name, len(s))
			}
			checkEscaped(t, name, textOf(b["text"]))
			if acc, ok := b["accessory"].(map[string]any); ok {
				checkElement(t, name, acc, actions)
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > maxContextElem {
				t.Errorf("%s: context with %d elements", name, len(els))
			}
			for _, el := range els {
				if s := textOf(el); len(s) > maxContextText || s == "" {
					t.Errorf("%s: context text of %d bytes", name, len(s))
				}
				checkEscaped(t, name, textOf(el))
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > maxActionElems {
				t.Errorf("%s: actions with %d elements", name, len(els))
			}
			for _, el := range els {
				checkElement(t, name, el.(map[string]any), actions)
			}
		case "divider":
		default:
			t.Errorf("%s: unexpected block type %v", name, b["type"])
		}
	}
}

// checkElement fails t when a button or menu breaks one of Slack's limits,
// reuses an action id of the message (actions), or carries a value the bot
// would not accept back.
func checkElement(t *testing.T, name string, el map[string]any, actions map[string]bool) {
	t.Helper()
	id, _ := el["action_id"].(string)
	if id == "" || len(id) > maxActionID || actions[id] {
		t.Errorf("%s: action id %q", name, id)
	}
	actions[id] = true
	switch el["type"] {
	case "button":
		if s := textOf(el["text"]); plainLen(s) > maxButtonText || s == "" {
			t.Errorf("%s: button text %q of %d characters", name, s, plainLen(s))
		}
		v, _ := el["value"].(string)
		if len(v) > maxButtonValue {
			t.Errorf("%s: button value of %d bytes", name, len(v))
		}
		if _, err := decodeRef(v, id); err != nil {
			t.Errorf("%s: button value %q: %v", name, v, err)
		}
	case "static_select":
		opts, _ := el["options"].([]any)
		if len(opts) == 0 || len(opts) > maxSelectOptions {
			t.Errorf("%s: menu with %d options", name, len(opts))
		}
		for _, o := range opts {
			o := o.(map[string]any)
			if s := textOf(o["text"]); plainLen(s) > maxOptionText || s == "" {
				t.Errorf("%s: option text %q of %d characters", name, s, plainLen(s))
			}
			v, _ := o["value"].(string)
			if len(v) > maxOptionValue {
				t.Errorf("%s: option value of %d bytes", name, len(v))
			}
			if _, err := decodeRef(v, id); err != nil {
				t.Errorf("%s: option value %q: %v", name, v, err)
			}
		}
	default:
		t.Errorf("%s: unexpected element %v", name, el["type"])
	}
}

func textOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["text"].(string)
	return s
}

// checkEscaped fails when mrkdwn holds an angle bracket that is not one of
// the bot's own mentions or links.
func checkEscaped(t *testing.T, name, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		end := strings.IndexByte(s[i:], '>')
		tok := s[i:]
		if end >= 0 {
			tok = s[i : i+end+1]
		}
		if !strings.HasPrefix(tok, "<@U") && !strings.HasPrefix(tok, "<https://learn.microsoft.com/") {
			t.Errorf("%s: unescaped %q", name, tok)
		}
	}
	if strings.Contains(s, "**") {
		t.Errorf("%s: Markdown bold left: %q", name, s)
	}
}

// asJSON turns rendered blocks into generic JSON, as Slack would see them.
func asJSON(t *testing.T, m message) []map[string]any {
	t.Helper()
	raw, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
