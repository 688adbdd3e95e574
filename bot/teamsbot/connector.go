package teamsbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/connector/client"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/infracloudio/msbotbuilder-go/schema/customerror"

	"github.com/enrollbot/enrollbot/bot/delivery"
)

// connector sends the bot's activities to the Bot Connector service at an
// activity's serviceUrl, through msbotbuilder-go's connector client, which
// puts the bearer token on each request and checks the status. A client is
// made per request: the library's client keeps its token in an unlocked
// field, and the tokens are cached (locked) by the token source behind its
// AuthClient instead.
type connector struct {
	creds       auth.CredentialProvider
	tokenURL    url.URL
	tokens      *tokenSource
	authClient  *http.Client
	replyClient *http.Client
	// loopbackOnly restricts replies to loopback service URLs (no
	// credentials: nothing vouches for the serviceUrl).
	loopbackOnly bool
}

// client returns a connector client of msbotbuilder-go's.
func (c *connector) client() (client.Client, error) {
	cl, err := client.NewClient(&client.Config{
		Credentials: c.creds,
		AuthURL:     c.tokenURL,
		AuthClient:  c.authClient,
		ReplyClient: c.replyClient,
	})
	if err != nil {
		return nil, fmt.Errorf("teams connector client: %w", err)
	}
	return cl, nil
}

// activitiesURL returns serviceURL's v3/conversations/{conv}/activities,
// with /{activityID} when activityID is set (a reply to, or an update of,
// that activity).
func (c *connector) activitiesURL(serviceURL, conv, activityID string) (url.URL, error) {
	u, err := checkServiceURL(serviceURL, c.loopbackOnly)
	if err != nil {
		return url.URL{}, err
	}
	if conv == "" {
		return url.URL{}, errors.New("teams: the activity names no conversation")
	}
	// PathEscape leaves dots alone: "." and ".." would walk the service
	// URL's path.
	if conv == "." || conv == ".." || activityID == "." || activityID == ".." {
		return url.URL{}, errors.New("teams: a dot-segment conversation or activity id")
	}
	p := strings.TrimSuffix(u.EscapedPath(), "/") + "/v3/conversations/" + url.PathEscape(conv) + "/activities"
	if activityID != "" {
		p += "/" + url.PathEscape(activityID)
	}
	u.RawPath = p
	if u.Path, err = url.PathUnescape(p); err != nil {
		return url.URL{}, fmt.Errorf("teams: service URL path: %w", err)
	}
	u.RawQuery, u.Fragment = "", ""
	return *u, nil
}

// checkServiceURL parses an activity's serviceUrl: https, or http on a
// loopback host (the Bot Framework Emulator, tests); only a loopback host
// when loopbackOnly.
func checkServiceURL(raw string, loopbackOnly bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("teams: serviceUrl %q is not an absolute URL", raw)
	}
	loopback := isLoopbackHost(u.Hostname())
	switch {
	case loopbackOnly && !loopback:
		return nil, fmt.Errorf("teams: serviceUrl %q is not a loopback address, and without credentials replies go only to loopback", raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback:
	default:
		return nil, fmt.Errorf("teams: serviceUrl %q is not https", raw)
	}
	return u, nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newReplyClient returns the HTTP client replies are sent with. It follows
// no redirects; with loopbackOnly it dials loopback addresses only, whatever
// a host name resolves to.
//
// Its pool keeps as many idle connections per host as replies can be in
// flight: Go's default of two would open a new connection (a TLS handshake
// each) for most replies under load.
func newReplyClient(timeout time.Duration, loopbackOnly bool, conns int) *http.Client {
	tr := delivery.PooledTransport(conns)
	if loopbackOnly {
		d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return fmt.Errorf("teams: dial %s: %w", address, err)
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("teams: dial %s: not a loopback address", address)
			}
			return nil
		}}
		tr.DialContext = d.DialContext
		tr.Proxy = nil
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: replyTransport{tr},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// replyTransport tidies the requests of the library's client: it drops
// the empty "Bearer " header sent when there is no token (local testing
// without credentials), and the fields of an activity the library
// serializes although they are unset (its times and structs are not
// pointers, so an activity would say it expires in year 1).
type replyTransport struct {
	base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t replyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	empty := strings.TrimSpace(req.Header.Get("Authorization")) == "Bearer"
	if !empty && req.Body == nil {
		return t.base.RoundTrip(req)
	}
	req = req.Clone(req.Context())
	if empty {
		req.Header.Del("Authorization")
	}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("teams: read the activity to send: %w", err)
		}
		body = tidyActivity(body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return t.base.RoundTrip(req)
}

// tidyActivity drops an activity's top-level fields that hold only zero
// times and empty objects; anything that is not a JSON object passes as
// it is.
func tidyActivity(body []byte) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return body
	}
	for k, v := range m {
		if unset(v) {
			delete(m, k)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// unset reports whether v is a zero time, or an object of nothing else.
func unset(v json.RawMessage) bool {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s == "0001-01-01T00:00:00Z"
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) != nil {
		return false
	}
	for _, x := range obj {
		if !unset(x) {
			return false
		}
	}
	return true
}

// post sends a new activity to the conversation, as a reply to replyTo when
// it is set.
func (b *Bot) post(ctx context.Context, serviceURL, conv, replyTo string, act schema.Activity, attrs []any) error {
	target, err := b.conn.activitiesURL(serviceURL, conv, replyTo)
	if err != nil {
		b.log.Warn("teams reply not sent", append(attrs, "err", err)...)
		return err
	}
	return b.call(ctx, "post", target, attrs, func(ctx context.Context, cl client.Client) error {
		return cl.Post(ctx, target, act)
	})
}

// call runs one connector request, retrying what is worth retrying: a 429
// or 5xx or network failure with a doubling backoff, at most MaxRetries
// times and never past ctx's deadline; a 401 once, with a fresh token. A
// final failure is logged with attrs and returned.
func (b *Bot) call(ctx context.Context, op string, target url.URL, attrs []any, f func(ctx context.Context, cl client.Client) error) error {
	attrs = append([]any{"op", op, "host", target.Host}, attrs...)
	refreshed := false
	classify := func(err error) delivery.Decision {
		status := 0
		if he, ok := errors.AsType[customerror.HTTPError](err); ok {
			status = he.StatusCode
		}
		if status == http.StatusUnauthorized && !refreshed && b.conn.tokens.appID != "" {
			refreshed = true
			if t, ok := b.conn.tokens.cached(); ok && b.conn.tokens.invalidate(t) {
				return delivery.Decision{Retry: true, Now: true}
			}
			// A fresh token refused: another one would be refused too.
			return delivery.Decision{}
		}
		return delivery.Decision{Retry: !errors.Is(err, errNoToken) && (status == 0 || status == http.StatusTooManyRequests || status >= 500)}
	}
	r := delivery.Retry{Max: b.cfg.MaxRetries, Backoff: b.cfg.Backoff, Sleep: b.sleep,
		OnRetry: func(attempt int, wait time.Duration, err error) {
			b.log.Debug("teams connector call retried", append(attrs, "attempt", attempt, "wait", wait, "err", err)...)
			b.cfg.Observer.APIRetry("teams")
		}}
	attempts, err := r.Do(ctx, classify, func(ctx context.Context) error { return b.try(ctx, f) })
	if err != nil {
		err = fmt.Errorf("teams connector %s %s: %w", op, target.Redacted(), err)
		b.log.Warn("teams connector call failed", append(attrs, "attempts", attempts, "err", err)...)
	}
	return err
}

// try gets a token (so that its failure is reported as itself, not as the
// library's), then makes the request with a fresh client.
func (b *Bot) try(ctx context.Context, f func(ctx context.Context, cl client.Client) error) error {
	if _, err := b.conn.tokens.Token(ctx); err != nil {
		return fmt.Errorf("%w: %w", errNoToken, err)
	}
	cl, err := b.conn.client()
	if err != nil {
		return err
	}
	return f(ctx, cl)
}
