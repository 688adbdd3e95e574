// Package itsm hands conversations to people as tickets in the systems
// helpdesks already run: Jira (REST API v2), ServiceNow (Table API) and a
// generic signed webhook any other ITSM can take. Desk is the bot.Desk
// that sends a hand-off to every configured tracker, retries transient
// failures, and keeps one ticket per conversation.
package itsm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Issue is a hand-off as a tracker files it.
type Issue struct {
	// Ref is the ticket's reference as the user is told it; set for
	// channels, which are told after the trackers.
	Ref string
	// Pending marks, for channels, a ticket no tracker took yet.
	Pending bool
	// Title is the one-line summary (Jira summary, ServiceNow
	// short_description).
	Title string
	// Body is the conversation summed up.
	Body string
	// Conversation and User identify where it came from; UserName is the
	// user's display name, when known.
	Conversation, User, UserName string
	// Link opens the conversation, where the platform has one.
	Link  string
	Lang  string
	Codes []string
	Entry string
}

// platformNames name the chat platforms a conversation key starts with.
var platformNames = map[string]string{"slack": "Slack", "teams": "Teams"}

// Asker names the user for people: their display name, or the platform
// they wrote from ("Teams user"); never a raw id, which tells an expert
// nothing.
func (i Issue) Asker() string {
	if i.UserName != "" {
		return i.UserName
	}
	platform, _, _ := strings.Cut(i.User, ":")
	if name, ok := platformNames[platform]; ok {
		return name + " user"
	}
	return "Chat user"
}

// description is the body a service desk files: the summary and where it
// came from (the user's name and channel-scoped id, the conversation),
// which helpdesk staff need to find the user; chat cards show the summary
// alone.
func (i Issue) description() string {
	d := i.Body + "\n"
	if i.User != "" {
		who := i.User
		if i.UserName != "" {
			who = i.UserName + " (" + i.User + ")"
		}
		d += "\nUser: " + who
	}
	if i.Conversation != "" {
		d += "\nConversation: " + i.Conversation
	}
	return d
}

// Tracker files issues in one system.
type Tracker interface {
	// Name names the system in logs and metrics ("jira").
	Name() string
	// Create files issue and returns its reference.
	Create(ctx context.Context, issue Issue) (ref string, err error)
	// Comment adds text to the issue ref.
	Comment(ctx context.Context, ref, text string) error
}

// StatusError is a tracker's answer other than success; Retryable says
// whether trying again may help (429, 5xx).
type StatusError struct {
	System string
	Status int
	Body   string
	// RetryAfter is the wait the system asked for, when it did.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.System, e.Status, e.Body)
}

// Retryable reports whether the same request may succeed later.
func (e *StatusError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// maxErrorBody bounds what an error keeps of a response.
const maxErrorBody = 512

// maxResponse bounds what is read of a tracker's response.
const maxResponse = 1 << 20

// send does one JSON request and decodes a 2xx response into out (nil:
// ignored).
func send(ctx context.Context, c *http.Client, system, method, u string, body any, header http.Header, out any) error {
	var rd io.Reader
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s: encode request: %w", system, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s: %w", system, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", system, method, redact(u), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", system, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{System: system, Status: resp.StatusCode, Body: string(data[:min(len(data), maxErrorBody)])}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.RetryAfter = time.Duration(s) * time.Second
		}
		return se
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decode response: %w", system, err)
	}
	return nil
}

// redact drops credentials and the query from a URL for logs.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(url)"
	}
	p.User = nil
	p.RawQuery = ""
	return p.String()
}

// Jira files issues through the Jira Cloud / Data Center REST API v2
// (POST /rest/api/2/issue), authenticated with an account's email and API
// token.
type Jira struct {
	// BaseURL is the site, https://example.atlassian.net.
	BaseURL       string
	Email, Token  string
	Project, Kind string
	Client        *http.Client
}

// Name implements Tracker.
func (j *Jira) Name() string { return "jira" }

func (j *Jira) header() http.Header { return basicAuth(j.Email, j.Token) }

// basicAuth is the header of HTTP basic authentication.
func basicAuth(user, password string) http.Header {
	h := http.Header{}
	req := http.Request{Header: h}
	req.SetBasicAuth(user, password)
	return h
}

// Create implements Tracker: the summary is the issue's summary, the body
// its description (v2 takes wiki text; v3 would need Atlassian Document
// Format).
func (j *Jira) Create(ctx context.Context, issue Issue) (string, error) {
	kind := j.Kind
	if kind == "" {
		kind = "Task"
	}
	body := map[string]any{"fields": map[string]any{
		"project":     map[string]string{"key": j.Project},
		"summary":     oneLine(issue.Title, 255),
		"description": issue.description(),
		"issuetype":   map[string]string{"name": kind},
		"labels":      []string{"enrollbot"},
	}}
	var out struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	u := strings.TrimRight(j.BaseURL, "/") + "/rest/api/2/issue"
	if err := send(ctx, j.Client, "jira", http.MethodPost, u, body, j.header(), &out); err != nil {
		return "", err
	}
	if out.Key == "" {
		return "", errors.New("jira: create issue: no key in the response")
	}
	return out.Key, nil
}

// Comment implements Tracker (POST /rest/api/2/issue/{key}/comment).
func (j *Jira) Comment(ctx context.Context, ref, text string) error {
	u := strings.TrimRight(j.BaseURL, "/") + "/rest/api/2/issue/" + url.PathEscape(ref) + "/comment"
	return send(ctx, j.Client, "jira", http.MethodPost, u, map[string]string{"body": text}, j.header(), nil)
}

// ServiceNow files incidents through the Table API (POST
// /api/now/table/incident), authenticated with a user's basic
// credentials.
type ServiceNow struct {
	// InstanceURL is the instance, https://example.service-now.com.
	InstanceURL    string
	User, Password string
	Client         *http.Client
}

// Name implements Tracker.
func (s *ServiceNow) Name() string { return "servicenow" }

func (s *ServiceNow) header() http.Header { return basicAuth(s.User, s.Password) }

// Create implements Tracker and returns the incident's number
// (INC0010001).
func (s *ServiceNow) Create(ctx context.Context, issue Issue) (string, error) {
	body := map[string]string{
		"short_description": oneLine(issue.Title, 160),
		"description":       issue.description(),
		"category":          "inquiry",
	}
	var out struct {
		Result struct {
			SysID  string `json:"sys_id"`
			Number string `json:"number"`
		} `json:"result"`
	}
	u := strings.TrimRight(s.InstanceURL, "/") + "/api/now/table/incident"
	if err := send(ctx, s.Client, "servicenow", http.MethodPost, u, body, s.header(), &out); err != nil {
		return "", err
	}
	if out.Result.Number == "" {
		return "", errors.New("servicenow: create incident: no number in the response")
	}
	return out.Result.Number, nil
}

// Comment implements Tracker: it finds the incident by number and adds
// text as a customer-visible comment (PATCH with "comments").
func (s *ServiceNow) Comment(ctx context.Context, ref, text string) error {
	base := strings.TrimRight(s.InstanceURL, "/") + "/api/now/table/incident"
	q := url.Values{"sysparm_query": {"number=" + ref}, "sysparm_fields": {"sys_id"}, "sysparm_limit": {"1"}}
	var found struct {
		Result []struct {
			SysID string `json:"sys_id"`
		} `json:"result"`
	}
	if err := send(ctx, s.Client, "servicenow", http.MethodGet, base+"?"+q.Encode(), nil, s.header(), &found); err != nil {
		return err
	}
	if len(found.Result) == 0 || found.Result[0].SysID == "" {
		return fmt.Errorf("servicenow: incident %s not found", ref)
	}
	return send(ctx, s.Client, "servicenow", http.MethodPatch, base+"/"+url.PathEscape(found.Result[0].SysID),
		map[string]string{"comments": text}, s.header(), nil)
}

// SignatureHeader carries a webhook body's HMAC-SHA256, as
// "sha256=<hex>".
const SignatureHeader = "X-Enrollbot-Signature"

// Webhook posts hand-offs as signed JSON to any URL: the body is
// {"event": "ticket.created" | "ticket.comment", "ticket": {...}} and
// SignatureHeader is the HMAC-SHA256 of the body with the shared secret.
// A JSON response {"ref": "..."} names the ticket; otherwise the bot's own
// id does.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client
	// NewID makes the bot's own ticket id when the receiver returns none.
	NewID func() string
}

// Name implements Tracker.
func (w *Webhook) Name() string { return "webhook" }

// WebhookBody is what Webhook posts.
type WebhookBody struct {
	Event  string        `json:"event"`
	Ticket WebhookTicket `json:"ticket"`
}

// WebhookTicket is the ticket in a WebhookBody.
type WebhookTicket struct {
	Ref          string   `json:"ref,omitempty"`
	Title        string   `json:"title,omitempty"`
	Body         string   `json:"body"`
	Conversation string   `json:"conversation,omitempty"`
	User         string   `json:"user,omitempty"`
	Lang         string   `json:"lang,omitempty"`
	Codes        []string `json:"codes,omitempty"`
	Entry        string   `json:"entry,omitempty"`
}

// Sign returns the SignatureHeader value of body under secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature under secret, in
// constant time.
func Verify(secret string, body []byte, sig string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(sig))
}

func (w *Webhook) post(ctx context.Context, b WebhookBody, out any) error {
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("webhook: encode: %w", err)
	}
	h := http.Header{}
	h.Set(SignatureHeader, Sign(w.Secret, raw))
	return send(ctx, w.Client, "webhook", http.MethodPost, w.URL, json.RawMessage(raw), h, out)
}

// Create implements Tracker.
func (w *Webhook) Create(ctx context.Context, issue Issue) (string, error) {
	id := ""
	if w.NewID != nil {
		id = w.NewID()
	}
	var out struct {
		Ref string `json:"ref"`
	}
	err := w.post(ctx, WebhookBody{Event: "ticket.created", Ticket: WebhookTicket{Ref: id, Title: issue.Title,
		Body: issue.description(), Conversation: issue.Conversation, User: issue.User, Lang: issue.Lang,
		Codes: issue.Codes, Entry: issue.Entry}}, &out)
	if err != nil {
		return "", err
	}
	if out.Ref != "" {
		return out.Ref, nil
	}
	if id == "" {
		return "", errors.New("webhook: the receiver returned no ref and no id was made")
	}
	return id, nil
}

// Comment implements Tracker.
func (w *Webhook) Comment(ctx context.Context, ref, text string) error {
	return w.post(ctx, WebhookBody{Event: "ticket.comment", Ticket: WebhookTicket{Ref: ref, Body: text}}, nil)
}

// oneLine makes s one line of at most n runes.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return s
}
