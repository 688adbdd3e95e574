package teamsbot

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// DefaultOpenIDMetadataURL is the Bot Framework's published OpenID metadata
// document, which names the keys that sign the tokens on its requests.
const DefaultOpenIDMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"

// Bounds of the token validation.
const (
	// maxTokenLen caps the bearer token parsed; Bot Framework tokens are
	// about 1.5 KB.
	maxTokenLen = 16 << 10
	// maxKeysBody caps the metadata and key set documents read.
	maxKeysBody = 1 << 20
	// clockSkew is the leeway on exp and nbf, as in Microsoft's SDKs.
	clockSkew = 5 * time.Minute
	// keysMaxAge is how long fetched keys are used before they are fetched
	// again; Microsoft's SDKs refresh daily.
	keysMaxAge = 24 * time.Hour
	// unknownKeyInterval spaces the fetches an unknown key id triggers, so
	// that forged tokens cannot make the bot hammer the metadata endpoint.
	unknownKeyInterval = time.Minute
)

// errUnauthorized marks every reason a request's token is refused.
var errUnauthorized = errors.New("unauthorized")

// Validator checks the JWT the Bot Framework puts on every request it sends
// to the bot: its signature against the keys the OpenID metadata document
// publishes, the algorithm, the issuer, the audience (the bot's app id),
// the expiry, and that its serviceurl claim is the activity's serviceUrl.
// It replaces msbotbuilder-go's auth.JwtTokenValidator, whose metadata URL
// is a package variable fetched on every request, whose key cache has no
// lock and no refresh on an unknown key id, and whose claims lookup panics
// on a missing claim.
//
// Keys are cached for a day, refreshed at once when a token names a key id
// the cache lacks (at most once a minute), and kept when a refresh fails.
// A Validator is safe for concurrent use.
type Validator struct {
	appID       string
	metadataURL string
	issuer      string
	client      *http.Client
	log         *slog.Logger
	now         func() time.Time

	// fetching admits one key fetch at a time; others wait for it, or for
	// their context to end.
	fetching chan struct{}

	mu          sync.Mutex
	keys        map[string]signingKey
	fetched     time.Time
	lastAttempt time.Time

	// refreshing is set while a background refresh of stale keys runs.
	refreshing atomic.Bool
}

// signingKey is one published key.
type signingKey struct {
	pub *rsa.PublicKey
	// endorsements are the channels the key may sign for; empty means any.
	endorsements []string
}

// ValidatorConfig configures a Validator.
type ValidatorConfig struct {
	// AppID is the bot's Microsoft app id: the audience tokens must name.
	AppID string
	// MetadataURL is the OpenID metadata document; DefaultOpenIDMetadataURL
	// when empty.
	MetadataURL string
	// Issuer is the issuer tokens must name; the Bot Framework's
	// (https://api.botframework.com) when empty.
	Issuer string
	// HTTPClient fetches the metadata and the keys; a client with a 10 s
	// timeout when nil.
	HTTPClient *http.Client
	// Logger receives key refreshes and their failures; discarded when nil.
	Logger *slog.Logger
}

// NewValidator returns a Validator; it fetches nothing until the first
// token arrives.
func NewValidator(cfg ValidatorConfig) (*Validator, error) {
	if cfg.AppID == "" {
		return nil, errors.New("teams: token validation needs the bot's app id")
	}
	if cfg.MetadataURL == "" {
		cfg.MetadataURL = DefaultOpenIDMetadataURL
	}
	if cfg.Issuer == "" {
		cfg.Issuer = auth.ToBotFromChannelTokenIssuer
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Validator{
		appID:       cfg.AppID,
		metadataURL: cfg.MetadataURL,
		issuer:      cfg.Issuer,
		client:      cfg.HTTPClient,
		log:         cfg.Logger,
		now:         time.Now,
		fetching:    make(chan struct{}, 1),
		keys:        map[string]signingKey{},
	}, nil
}

// Claims is a verified token's claims. It implements msbotbuilder-go's
// auth.ClaimsIdentity without its panic: a missing or non-string claim
// reads as empty.
type Claims struct {
	claims jwt.MapClaims
}

var _ auth.ClaimsIdentity = Claims{}

// GetClaimValue returns the string claim named name, or "" when the token
// has none.
func (c Claims) GetClaimValue(name string) string {
	s, _ := c.claims[name].(string)
	return s
}

// IsAuthenticated reports whether the claims come from a verified token.
func (c Claims) IsAuthenticated() bool { return c.claims != nil }

var _ auth.TokenValidator = (*Validator)(nil)

// AuthenticateRequest implements msbotbuilder-go's auth.TokenValidator: it
// verifies the bearer token in authHeader and that it was issued for
// activity (its serviceurl claim, and the key's endorsement of the
// activity's channel). credentials, when not nil, must accept the token's
// audience as well; channelService is not used (public cloud only). Every
// failure wraps errUnauthorized.
func (v *Validator) AuthenticateRequest(ctx context.Context, activity schema.Activity, authHeader string, credentials auth.CredentialProvider, _ string) (auth.ClaimsIdentity, error) {
	claims, key, err := v.verify(ctx, authHeader)
	if err != nil {
		return nil, err
	}
	if credentials != nil {
		aud, _ := claims.claims.GetAudience()
		if !slices.ContainsFunc(aud, credentials.IsValidAppID) {
			return nil, fmt.Errorf("%w: audience %q is not the configured app id", errUnauthorized, aud)
		}
	}
	if got := claims.GetClaimValue(auth.ServiceURLClaim); got == "" || got != activity.ServiceURL {
		return nil, fmt.Errorf("%w: serviceurl claim %q does not match the activity's serviceUrl %q", errUnauthorized, got, activity.ServiceURL)
	}
	if len(key.endorsements) > 0 && !slices.Contains(key.endorsements, activity.ChannelID) {
		return nil, fmt.Errorf("%w: the signing key is not endorsed for channel %q", errUnauthorized, activity.ChannelID)
	}
	return claims, nil
}

// verify checks the bearer token in authHeader: signature, algorithm,
// issuer, audience, expiry and not-before.
func (v *Validator) verify(ctx context.Context, authHeader string) (Claims, signingKey, error) {
	raw, ok := strings.CutPrefix(strings.TrimSpace(authHeader), "Bearer ")
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return Claims{}, signingKey{}, fmt.Errorf("%w: no bearer token", errUnauthorized)
	}
	if len(raw) > maxTokenLen {
		return Claims{}, signingKey{}, fmt.Errorf("%w: token of %d bytes", errUnauthorized, len(raw))
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(auth.AllowedSigningAlgorithms),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.appID),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(clockSkew),
		jwt.WithTimeFunc(v.now),
	)
	var key signingKey
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header[auth.KeyIDHeader].(string)
		if kid == "" {
			return nil, errors.New("the token names no key id")
		}
		var err error
		key, err = v.key(ctx, kid)
		if err != nil {
			return nil, err
		}
		return key.pub, nil
	})
	if err != nil {
		return Claims{}, signingKey{}, fmt.Errorf("%w: %w", errUnauthorized, err)
	}
	return Claims{claims: claims}, key, nil
}

// key returns the published key kid, fetching the keys when the cache is
// stale or lacks kid.
func (v *Validator) key(ctx context.Context, kid string) (signingKey, error) {
	v.mu.Lock()
	k, ok := v.keys[kid]
	fresh := v.now().Sub(v.fetched) < keysMaxAge
	v.mu.Unlock()
	if ok && fresh {
		return k, nil
	}
	if ok {
		// Stale but known: the request goes on with it while one refresh
		// runs in the background, instead of every request waiting for a
		// fetch in turn.
		if v.refreshing.CompareAndSwap(false, true) {
			go func() {
				defer v.refreshing.Store(false)
				bctx, cancel := context.WithTimeout(context.Background(), keyWait)
				defer cancel()
				if err := v.refresh(bctx, false); err != nil {
					v.log.Warn("teams signing keys not refreshed; using the cached ones", "err", err)
				}
			}()
		}
		return k, nil
	}
	ctx, cancel := context.WithTimeout(ctx, keyWait)
	defer cancel()
	if err := v.refresh(ctx, !ok); err != nil {
		if ok {
			// A stale key beats no key while the endpoint is down.
			v.log.Warn("teams signing keys not refreshed; using the cached ones", "err", err)
			return k, nil
		}
		return signingKey{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	return signingKey{}, fmt.Errorf("no published key has id %q", kid)
}

// coldInterval is the least time between fetches while no keys are cached.
const coldInterval = 5 * time.Second

// keyWait bounds how long a request waits for the signing keys.
const keyWait = 5 * time.Second

// refresh fetches the keys, unless another caller did while this one
// waited, or (for an unknown key id, once there are keys) a fetch was tried
// within the last minute.
func (v *Validator) refresh(ctx context.Context, unknownKey bool) error {
	asked := v.now()
	select {
	case v.fetching <- struct{}{}:
		defer func() { <-v.fetching }()
	case <-ctx.Done():
		return fmt.Errorf("wait for the signing keys: %w", ctx.Err())
	}
	v.mu.Lock()
	// An unknown key id (a forged token names any) fetches at most once a
	// minute; with no keys at all, once every few seconds, so that a failed
	// first fetch is soon retried but forged tokens cannot drive fetches.
	interval := unknownKeyInterval
	if len(v.keys) == 0 {
		interval = coldInterval
	}
	throttled := unknownKey && !v.lastAttempt.IsZero() && v.now().Sub(v.lastAttempt) < interval
	if v.fetched.After(asked) || throttled {
		v.mu.Unlock()
		return nil
	}
	v.lastAttempt = v.now()
	v.mu.Unlock()

	keys, err := v.fetchKeys(ctx)
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.keys, v.fetched = keys, v.now()
	v.mu.Unlock()
	v.log.Info("teams signing keys fetched", "keys", len(keys), "metadata", v.metadataURL)
	return nil
}

// openIDMetadata is the part of the metadata document the bot reads.
type openIDMetadata struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// jwks is a JSON Web Key Set with the Bot Framework's endorsements.
type jwks struct {
	Keys []struct {
		Kty          string   `json:"kty"`
		Use          string   `json:"use"`
		Kid          string   `json:"kid"`
		N            string   `json:"n"`
		E            string   `json:"e"`
		Endorsements []string `json:"endorsements"`
	} `json:"keys"`
}

func (v *Validator) fetchKeys(ctx context.Context) (map[string]signingKey, error) {
	var md openIDMetadata
	if err := v.getJSON(ctx, v.metadataURL, &md); err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if md.JWKSURI == "" {
		return nil, fmt.Errorf("openid metadata %s names no jwks_uri", v.metadataURL)
	}
	var set jwks
	if err := v.getJSON(ctx, md.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	keys := map[string]signingKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			v.log.Warn("teams signing key skipped", "kid", k.Kid, "err", err)
			continue
		}
		keys[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("signing keys at %s: no usable RSA key", md.JWKSURI)
	}
	return keys, nil
}

// getJSON fetches url into v, reading at most maxKeysBody bytes.
func (v *Validator) getJSON(ctx context.Context, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", url, err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxKeysBody))
		return fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxKeysBody+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", url, err)
	}
	if len(data) > maxKeysBody {
		return fmt.Errorf("read %s: larger than %d bytes", url, maxKeysBody)
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("parse %s: %w", url, err)
	}
	return nil
}

// rsaKey decodes a JWK's modulus and exponent.
func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	if len(nb) < 256 || len(nb) > 1024 {
		return nil, fmt.Errorf("modulus of %d bits", len(nb)*8)
	}
	exp := new(big.Int).SetBytes(eb)
	if len(eb) == 0 || !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
		return nil, errors.New("exponent out of range")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp.Int64())}, nil
}
