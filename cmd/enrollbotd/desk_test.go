package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/itsm"
)

func TestNewDeskFromEnvironment(t *testing.T) {
	var got itsm.WebhookBody
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !itsm.Verify("k", body, r.Header.Get(itsm.SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.Unmarshal(body, &got)
		io.WriteString(w, `{"ref":"HD-42"}`)
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		wantRef string
	}{
		{"none", nil, "", ""},
		{"webhook", map[string]string{"ENROLLBOT_TICKET_WEBHOOK_URL": srv.URL, "ENROLLBOT_TICKET_WEBHOOK_SECRET": "k"}, "", "HD-42"},
		{"webhook without secret", map[string]string{"ENROLLBOT_TICKET_WEBHOOK_URL": srv.URL}, "SECRET is required", ""},
		{"jira without token", map[string]string{"JIRA_BASE_URL": "https://x.atlassian.net", "JIRA_EMAIL": "a@b"}, "JIRA_API_TOKEN", ""},
		{"servicenow without password", map[string]string{"SERVICENOW_INSTANCE_URL": "https://x.service-now.com", "SERVICENOW_USER": "u"}, "SERVICENOW_PASSWORD", ""},
		{"not a url", map[string]string{"JIRA_BASE_URL": "x.atlassian.net"}, "not an http(s) URL", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := newDesk(func(k string) string { return tc.env[k] }, bot.NewMemoryTickets(), nil, nil, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantRef == "" {
				if d != nil {
					t.Fatalf("desk %v with nothing configured", d)
				}
				return
			}
			tk, err := d.HandOff(context.Background(), bot.Handoff{Key: "k", User: "teams:29:1",
				Request: bot.HandoffRequest{Summary: "Error: 8018000a", Codes: []string{"0x8018000A"}}})
			if err != nil || tk.Ref != tc.wantRef || got.Ticket.Codes[0] != "0x8018000A" {
				t.Errorf("ticket %+v, %v, posted %+v", tk, err, got)
			}
		})
	}
}
