package teamsbot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

func newTestValidator(t *testing.T, s *signer, log *lockedBuffer) (*Validator, *fakeClock) {
	t.Helper()
	v, err := NewValidator(ValidatorConfig{AppID: testAppID, MetadataURL: s.metadataURL(),
		Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Now()}
	v.now = clock.Now
	return v, clock
}

func TestValidatorImplementsLibraryInterface(t *testing.T) {
	s := newSigner(t)
	v, _ := newTestValidator(t, s, &lockedBuffer{})
	var tv auth.TokenValidator = v
	su := "https://smba.trafficmanager.net/emea/"
	act := schema.Activity{ServiceURL: su, ChannelID: "msteams"}
	creds := auth.SimpleCredentialProvider{AppID: testAppID, Password: "x"}
	id, err := tv.AuthenticateRequest(context.Background(), act, "Bearer "+s.token(t, su, nil), creds, "")
	if err != nil {
		t.Fatal(err)
	}
	if !id.IsAuthenticated() || id.GetClaimValue("serviceurl") != su || id.GetClaimValue("aud") != testAppID {
		t.Errorf("claims: %v %q", id.IsAuthenticated(), id.GetClaimValue("serviceurl"))
	}
	// The library's own identity panics on a missing claim; this one reads
	// it as empty.
	if got := id.GetClaimValue("no-such-claim"); got != "" {
		t.Errorf("missing claim = %q", got)
	}
	if got := (Claims{}).GetClaimValue("aud"); got != "" || (Claims{}).IsAuthenticated() {
		t.Errorf("zero claims: %q", got)
	}
	// Credentials for another app refuse the token.
	_, err = tv.AuthenticateRequest(context.Background(), act, "Bearer "+s.token(t, su, nil),
		auth.SimpleCredentialProvider{AppID: "another"}, "")
	if !errors.Is(err, errUnauthorized) {
		t.Errorf("other credentials: %v", err)
	}
}

func TestValidatorKeepsStaleKeysWhenEndpointDown(t *testing.T) {
	s := newSigner(t)
	log := &lockedBuffer{}
	v, clock := newTestValidator(t, s, log)
	su := "https://smba.trafficmanager.net/emea/"
	act := schema.Activity{ServiceURL: su, ChannelID: "msteams"}
	check := func() error {
		tok := s.token(t, su, func(c jwt.MapClaims, _ map[string]any) { c["exp"] = clock.Now().Add(time.Hour).Unix() })
		_, err := v.AuthenticateRequest(context.Background(), act, "Bearer "+tok, nil, "")
		return err
	}
	if err := check(); err != nil {
		t.Fatal(err)
	}
	// A day later the keys are due for a refresh, and the endpoint is down:
	// the cached key still verifies.
	clock.Advance(25 * time.Hour)
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	if err := check(); err != nil {
		t.Fatalf("stale key refused while the endpoint is down: %v", err)
	}
	// The refresh runs in the background, not in the request's path.
	waitFor(t, func() bool { return strings.Contains(log.String(), "using the cached ones") }, "the warning")
	waitFor(t, func() bool { return !v.refreshing.Load() }, "the background refresh to end")
	// Back up, the keys are fetched again, once.
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
	_, before := s.hits()
	if err := check(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, after := s.hits(); return after == before+1 }, "one key fetch after recovery")
	waitFor(t, func() bool { return !v.refreshing.Load() }, "the background refresh to end")
	if err := check(); err != nil {
		t.Fatal(err)
	}
	if _, after := s.hits(); after != before+1 {
		t.Errorf("%d key fetches after recovery, want 1", after-before)
	}
}

func TestValidatorFirstFetchFailureNotThrottled(t *testing.T) {
	s := newSigner(t)
	v, clock := newTestValidator(t, s, &lockedBuffer{})
	su := "https://smba.trafficmanager.net/emea/"
	act := schema.Activity{ServiceURL: su, ChannelID: "msteams"}
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	if _, err := v.AuthenticateRequest(context.Background(), act, "Bearer "+s.token(t, su, nil), nil, ""); err == nil {
		t.Fatal("verified without keys")
	}
	s.mu.Lock()
	s.down = false
	s.mu.Unlock()
	// With no keys at all, the next fetch comes seconds later, not a
	// minute later; forged tokens in between drive no fetch.
	_, before := s.hits()
	if _, err := v.AuthenticateRequest(context.Background(), act, "Bearer "+s.token(t, su, nil), nil, ""); err == nil {
		t.Fatal("verified without keys")
	}
	if _, after := s.hits(); after != before {
		t.Errorf("%d fetches within the cold interval", after-before)
	}
	clock.Advance(coldInterval)
	if _, err := v.AuthenticateRequest(context.Background(), act, "Bearer "+s.token(t, su, nil), nil, ""); err != nil {
		t.Fatalf("after the endpoint came back: %v", err)
	}
}

func TestValidatorConcurrentColdStartFetchesOnce(t *testing.T) {
	s := newSigner(t)
	v, _ := newTestValidator(t, s, &lockedBuffer{})
	su := "https://smba.trafficmanager.net/emea/"
	act := schema.Activity{ServiceURL: su, ChannelID: "msteams"}
	tok := "Bearer " + s.token(t, su, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := v.AuthenticateRequest(context.Background(), act, tok, nil, "")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if md, keys := s.hits(); md != 1 || keys != 1 {
		t.Errorf("%d metadata and %d key fetches for 16 concurrent requests, want 1 and 1", md, keys)
	}
}

func TestValidatorRejectsOversizedAndMalformedHeaders(t *testing.T) {
	s := newSigner(t)
	v, _ := newTestValidator(t, s, &lockedBuffer{})
	act := schema.Activity{ServiceURL: "https://x/"}
	for _, h := range []string{"", "Basic abc", "Bearer ", "Bearer " + string(make([]byte, maxTokenLen+1)), "bearer x.y.z"} {
		if _, err := v.AuthenticateRequest(context.Background(), act, h, nil, ""); !errors.Is(err, errUnauthorized) {
			t.Errorf("%.20q: %v", h, err)
		}
	}
	if md, _ := s.hits(); md != 0 {
		t.Errorf("malformed headers made %d fetches", md)
	}
	// A token without a key id is refused without a fetch.
	tok := s.token(t, "https://x/", func(_ jwt.MapClaims, h map[string]any) { delete(h, "kid") })
	if _, err := v.AuthenticateRequest(context.Background(), act, "Bearer "+tok, nil, ""); !errors.Is(err, errUnauthorized) {
		t.Errorf("no kid: %v", err)
	}
}

// waitFor polls cond for a few seconds; what names what is awaited.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
