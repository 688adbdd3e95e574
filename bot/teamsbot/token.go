package teamsbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/infracloudio/msbotbuilder-go/connector/auth"
)

// TokenURL returns the token endpoint of tenant: the tenant's own for a
// single-tenant bot (the default for new Azure bots), the Bot Framework's
// multi-tenant one when tenant is empty.
func TokenURL(tenant string) string {
	if tenant == "" {
		tenant = auth.DefaultChannelAuthTenant
	}
	return auth.ToChannelFromBotLoginURLPrefix + url.PathEscape(tenant) + auth.ToChannelFromBotTokenEndpointPathTOCHANNELFROMBOTTOKENENDPOINTPATH
}

// maxTokenBody caps the token endpoint's answer read.
const maxTokenBody = 64 << 10

// tokenSource gets the bot's bearer token for the Bot Connector (OAuth
// client credentials) and caches it until shortly before it expires. It is
// safe for concurrent use; one fetch runs at a time.
type tokenSource struct {
	url      string
	appID    string
	password string
	client   *http.Client
	now      func() time.Time

	fetching chan struct{}
	mu       sync.Mutex
	token    string
	renew    time.Time
	// fetched is when the token was fetched: a fresh one refused by the
	// connector is not the token's fault.
	fetched time.Time
}

// freshToken is how young a token is kept when the connector refuses it:
// a connector that refuses every token must not cost a fetch per reply.
const freshToken = time.Minute

func newTokenSource(tokenURL, appID, password string, client *http.Client) *tokenSource {
	return &tokenSource{url: tokenURL, appID: appID, password: password, client: client,
		now: time.Now, fetching: make(chan struct{}, 1)}
}

// cached returns the cached token while it is good.
func (s *tokenSource) cached() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, s.token != "" && s.now().Before(s.renew)
}

// Token returns a token good for a few minutes at least. Without an app id
// (local testing) it is empty.
func (s *tokenSource) Token(ctx context.Context) (string, error) {
	if s.appID == "" {
		return "", nil
	}
	if t, ok := s.cached(); ok {
		return t, nil
	}
	select {
	case s.fetching <- struct{}{}:
		defer func() { <-s.fetching }()
	case <-ctx.Done():
		return "", fmt.Errorf("wait for a connector token: %w", ctx.Err())
	}
	// Another caller may have fetched it while this one waited.
	if t, ok := s.cached(); ok {
		return t, nil
	}
	t, lifetime, err := s.fetch(ctx)
	if err != nil {
		return "", err
	}
	// Renew five minutes before expiry, or halfway through a short life.
	margin := min(5*time.Minute, lifetime/2)
	s.mu.Lock()
	s.token, s.renew, s.fetched = t, s.now().Add(lifetime-margin), s.now()
	s.mu.Unlock()
	return t, nil
}

// invalidate drops token from the cache (the connector refused it).
//
// It reports whether it did: a token fetched within freshToken is kept.
func (s *tokenSource) invalidate(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != token || s.now().Sub(s.fetched) < freshToken {
		return false
	}
	s.token, s.renew = "", time.Time{}
	return true
}

// tokenResponse is the token endpoint's answer, success or error.
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Error       string          `json:"error"`
	Description string          `json:"error_description"`
}

func (s *tokenSource) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.appID},
		"client_secret": {s.password},
		"scope":         {auth.ToChannelFromBotOauthScope},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("connector token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("connector token: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return "", 0, fmt.Errorf("connector token: read %s: %w", s.url, err)
	}
	var tr tokenResponse
	jerr := json.Unmarshal(data, &tr)
	if resp.StatusCode != http.StatusOK {
		if tr.Error != "" {
			return "", 0, fmt.Errorf("connector token: %s: status %s: %s: %s", s.url, resp.Status, tr.Error, firstLine(tr.Description))
		}
		return "", 0, fmt.Errorf("connector token: %s: status %s", s.url, resp.Status)
	}
	if jerr != nil {
		return "", 0, fmt.Errorf("connector token: parse the answer of %s: %w", s.url, jerr)
	}
	if tr.AccessToken == "" {
		return "", 0, fmt.Errorf("connector token: %s answered no access_token", s.url)
	}
	// expires_in is a number, or a string holding one.
	var secs int64
	if err := json.Unmarshal(bytes.Trim(tr.ExpiresIn, `"`), &secs); err != nil || secs <= 0 {
		secs = 3600
	}
	return tr.AccessToken, time.Duration(secs) * time.Second, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// authTransport is the AuthClient given to msbotbuilder-go's connector
// client. That client fetches a token before each request, into an
// unlocked cache, and dereferences a nil response when the fetch fails in
// transport; so this transport never fails: it answers from the token
// source's locked cache, and when that has no token it answers 503 with a
// body that is not JSON, which the client reports as an error. The bot
// fetches the token itself before it calls the client, so the real cause
// is reported there.
type authTransport struct {
	src *tokenSource
}

// RoundTrip implements http.RoundTripper.
func (t authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, maxTokenBody))
		_ = req.Body.Close()
	}
	respond := func(status int, body string) *http.Response {
		return &http.Response{
			StatusCode:    status,
			Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)),
			Request:       req,
		}
	}
	token, err := t.src.Token(req.Context())
	if err != nil {
		return respond(http.StatusServiceUnavailable, "connector token unavailable"), nil
	}
	// expires_in 0: the client's own cache never serves it again.
	body, err := json.Marshal(map[string]any{"token_type": "Bearer", "expires_in": 0, "access_token": token})
	if err != nil {
		return respond(http.StatusServiceUnavailable, "connector token unavailable"), nil
	}
	return respond(http.StatusOK, string(body)), nil
}

// errNoToken is returned when the connector token cannot be had.
var errNoToken = errors.New("teams: no connector token")
