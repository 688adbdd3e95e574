package slackbot

import (
	"os"
	"strings"
	"testing"
)

// TestManifestMatchesServer keeps slack/manifest.yaml in step with what the
// server serves and needs.
func TestManifestMatchesServer(t *testing.T) {
	raw, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := string(raw)
	for _, want := range []string{
		PathEvents, PathCommands, PathInteractions, "command: /enroll",
		"- chat:write", "- reactions:write", "- users:read", "- im:history", "- channels:history",
		"- groups:history", "- mpim:history", "- app_mentions:read", "- commands",
		"- app_mention", "- message.channels", "- message.groups", "- message.im", "- message.mpim",
		"socket_mode_enabled:", "interactivity:",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
}
