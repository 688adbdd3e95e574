package itsm_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
	"github.com/enrollbot/enrollbot/bot/itsm"
	"github.com/enrollbot/enrollbot/bot/metrics"
)

// fakeJira speaks Jira's REST API v2 for create issue and add comment,
// failing the first failN creates with 503.
type fakeJira struct {
	mu       sync.Mutex
	failN    int
	creates  []map[string]any
	comments map[string][]string
	badAuth  int
}

func (f *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "bot@example.com" || p != "tok" {
		f.badAuth++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/rest/api/2/issue":
		if f.failN > 0 {
			f.failN--
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.creates = append(f.creates, req)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"10000","key":"ENR-`+string(rune('0'+len(f.creates)))+`","self":"https://example.atlassian.net/rest/api/2/issue/10000"}`)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/rest/api/2/issue/") && strings.HasSuffix(r.URL.Path, "/comment"):
		key := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/rest/api/2/issue/"), "/comment")
		var req struct {
			Body string `json:"body"`
		}
		json.Unmarshal(body, &req)
		if f.comments == nil {
			f.comments = map[string][]string{}
		}
		f.comments[key] = append(f.comments[key], req.Body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"10010","body":"x"}`)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func noSleep(context.Context, time.Duration) error { return nil }

func handoff(key string) bot.Handoff {
	return bot.Handoff{Key: key, User: "slack:U1", Request: bot.HandoffRequest{Lang: "en",
		Summary: "Error: 0x80180014\nCodes: 0x80180014", Error: "0x80180014", Codes: []string{"0x80180014"}}}
}

func TestJiraCreateThenComment(t *testing.T) {
	f := &fakeJira{failN: 2}
	srv := httptest.NewServer(f)
	defer srv.Close()
	d, err := itsm.NewDesk(itsm.DeskConfig{Trackers: []itsm.Tracker{&itsm.Jira{BaseURL: srv.URL + "/", Email: "bot@example.com",
		Token: "tok", Project: "ENR", Kind: "Task", Client: srv.Client()}}, Retry: delivery.Retry{Max: 3, Backoff: time.Millisecond, Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := d.HandOff(context.Background(), handoff("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Ref != "ENR-1" || tk.Added || tk.Relays {
		t.Fatalf("ticket %+v, want ENR-1 opened after two 503s, with no channel to relay", tk)
	}
	fields := f.creates[0]["fields"].(map[string]any)
	if fields["project"].(map[string]any)["key"] != "ENR" || fields["issuetype"].(map[string]any)["name"] != "Task" ||
		!strings.Contains(fields["summary"].(string), "0x80180014") || !strings.Contains(fields["description"].(string), "slack:U1") {
		t.Errorf("create issue fields %v", fields)
	}
	tk2, err := d.HandOff(context.Background(), handoff("c1"))
	if err != nil || tk2.Ref != "ENR-1" || !tk2.Added {
		t.Fatalf("second hand-off: %+v, %v: want added to ENR-1", tk2, err)
	}
	if len(f.creates) != 1 || len(f.comments["ENR-1"]) != 1 {
		t.Errorf("%d creates, comments %v: want one issue and one comment", len(f.creates), f.comments)
	}
	if f.badAuth != 0 {
		t.Errorf("%d requests without the account's basic auth", f.badAuth)
	}
}

func TestJiraClientErrorIsNotRetried(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"errorMessages":[],"errors":{"project":"valid project is required"}}`)
	}))
	defer srv.Close()
	d, _ := itsm.NewDesk(itsm.DeskConfig{Trackers: []itsm.Tracker{&itsm.Jira{BaseURL: srv.URL, Project: "NOPE", Client: srv.Client()}},
		Retry: delivery.Retry{Max: 3, Backoff: time.Millisecond, Sleep: noSleep}})
	_, err := d.HandOff(context.Background(), handoff("c"))
	if err == nil || !strings.Contains(err.Error(), "valid project is required") || calls != 1 {
		t.Errorf("err %v after %d calls: want Jira's 400 reported after one call", err, calls)
	}
}

// fakeServiceNow speaks the Table API for incidents.
type fakeServiceNow struct {
	mu       sync.Mutex
	created  []map[string]string
	comments map[string]string
}

func (f *fakeServiceNow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != "svc" || p != "pw" || r.Header.Get("Accept") != "application/json" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/now/table/incident":
		var req map[string]string
		json.NewDecoder(r.Body).Decode(&req)
		f.created = append(f.created, req)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"result":{"sys_id":"9d385017c611228701d22104cc95c371","number":"INC0010001","state":"1"}}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/now/table/incident":
		if r.URL.Query().Get("sysparm_query") != "number=INC0010001" {
			io.WriteString(w, `{"result":[]}`)
			return
		}
		io.WriteString(w, `{"result":[{"sys_id":"9d385017c611228701d22104cc95c371"}]}`)
	case r.Method == http.MethodPatch && r.URL.Path == "/api/now/table/incident/9d385017c611228701d22104cc95c371":
		var req map[string]string
		json.NewDecoder(r.Body).Decode(&req)
		if f.comments == nil {
			f.comments = map[string]string{}
		}
		f.comments["INC0010001"] = req["comments"]
		io.WriteString(w, `{"result":{"number":"INC0010001"}}`)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestServiceNowIncident(t *testing.T) {
	f := &fakeServiceNow{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	sn := &itsm.ServiceNow{InstanceURL: srv.URL, User: "svc", Password: "pw", Client: srv.Client()}
	d, _ := itsm.NewDesk(itsm.DeskConfig{Trackers: []itsm.Tracker{sn}})
	tk, err := d.HandOff(context.Background(), handoff("c"))
	if err != nil || tk.Ref != "INC0010001" {
		t.Fatalf("ticket %+v, %v: want INC0010001", tk, err)
	}
	if got := f.created[0]; !strings.Contains(got["short_description"], "0x80180014") || !strings.Contains(got["description"], "Codes: 0x80180014") {
		t.Errorf("incident %v", got)
	}
	if _, err := d.HandOff(context.Background(), handoff("c")); err != nil || !strings.Contains(f.comments["INC0010001"], "0x80180014") {
		t.Errorf("second hand-off: %v, comments %v", err, f.comments)
	}
}

func TestWebhookSignsAndDeskTakesAnyTracker(t *testing.T) {
	var got []itsm.WebhookBody
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !itsm.Verify("s3cret", body, r.Header.Get(itsm.SignatureHeader)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var b itsm.WebhookBody
		json.Unmarshal(body, &b)
		got = append(got, b)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer down.Close()
	wh := &itsm.Webhook{URL: srv.URL, Secret: "s3cret", Client: srv.Client(), NewID: func() string { return "EB-7" }}
	d, _ := itsm.NewDesk(itsm.DeskConfig{Trackers: []itsm.Tracker{
		&itsm.Jira{BaseURL: down.URL, Client: down.Client()}, wh},
		Retry: delivery.Retry{Max: 1, Backoff: time.Millisecond, Sleep: noSleep}})
	tk, err := d.HandOff(context.Background(), handoff("c"))
	if err != nil || tk.Ref != "EB-7" {
		t.Fatalf("ticket %+v, %v: with Jira down the webhook's EB-7 still opens the ticket", tk, err)
	}
	if len(got) != 1 || got[0].Event != "ticket.created" || got[0].Ticket.User != "slack:U1" || got[0].Ticket.Codes[0] != "0x80180014" {
		t.Errorf("webhook bodies %+v", got)
	}
	bad := &itsm.Webhook{URL: srv.URL, Secret: "wrong", Client: srv.Client(), NewID: func() string { return "x" }}
	if _, err := bad.Create(context.Background(), itsm.Issue{Body: "b"}); err == nil {
		t.Error("a body signed with the wrong secret was accepted")
	}
}

func TestDeskMetrics(t *testing.T) {
	f := &fakeJira{failN: 1}
	srv := httptest.NewServer(f)
	defer srv.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadRequest) }))
	defer down.Close()
	m := metrics.New()
	d, _ := itsm.NewDesk(itsm.DeskConfig{Trackers: []itsm.Tracker{
		&itsm.Jira{BaseURL: srv.URL, Email: "bot@example.com", Token: "tok", Project: "ENR", Client: srv.Client()},
		&itsm.Webhook{URL: down.URL, Secret: "s", Client: down.Client(), NewID: itsm.NewID}},
		Observer: m, Retry: delivery.Retry{Max: 2, Backoff: time.Millisecond, Sleep: noSleep}})
	if _, err := d.HandOff(context.Background(), handoff("c")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.HandOff(context.Background(), handoff("c")); err != nil {
		t.Fatal(err)
	}
	if err := d.RetryPending(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`enrollbot_tickets{state="open"} 1`,
		`enrollbot_tickets{state="pending"} 1`,
		`enrollbot_tickets{state="resolved"} 0`,
		`enrollbot_handoffs_total{destination="jira",outcome="created"} 1`,
		`enrollbot_handoffs_total{destination="jira",outcome="commented"} 1`,
		`enrollbot_handoffs_total{destination="webhook",outcome="failed"} 3`,
		`enrollbot_tracker_retries_total{destination="jira"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
