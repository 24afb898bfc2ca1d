package oauth

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms accepted: asymmetric only, so a public key can never be used
// as an HMAC secret, and never "none".
var Algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}

// Token check failures. They reach the log, never the client.
var (
	ErrTokenEmpty      = errors.New("empty token")
	ErrTokenTooLarge   = errors.New("token over the size cap")
	ErrTokenShape      = errors.New("token header not acceptable")
	ErrClaims          = errors.New("token claims not acceptable")
	ErrWrongUser       = errors.New("token is for another user")
	ErrUntrustedIssuer = errors.New("token issuer not trusted")
)

// Verifier checks tokens of the trusted issuers, each issuer's with its own
// keys only: the same kid in two issuers' key sets never lets one issuer's
// key verify another's token. Safe for concurrent use.
type Verifier struct {
	cfg     Config
	issuers map[string]*trustedIssuer
	names   []string // sorted, for messages
	closers []func()
}

type trustedIssuer struct {
	name     string
	audience string
	algs     []string
	keys     KeySource
}

// NewVerifier opens every issuer's keys: it reads JWKS files, reads
// discovery documents (bounded by ctx; one that does not answer, or names
// another issuer, is an error) and makes the first JWKS fetches (each
// bounded by its own timeout; a JWKS URL that does not answer yet is
// retried in the background and on logins). Refreshes run until Close,
// whatever becomes of ctx.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, issuers: map[string]*trustedIssuer{}}
	hc := cfg.fetchClient()
	for _, ic := range cfg.Issuers {
		keys, err := v.open(ctx, hc, ic)
		if err != nil {
			v.Close()
			return nil, fmt.Errorf("oauth: issuer %s: %w", ic.Issuer, err)
		}
		algs := ic.Algorithms
		if len(algs) == 0 {
			algs = Algorithms
		}
		v.issuers[ic.Issuer] = &trustedIssuer{name: ic.Issuer, audience: cmp.Or(ic.Audience, cfg.Audience), algs: algs, keys: keys}
		v.names = append(v.names, ic.Issuer)
	}
	slices.Sort(v.names)
	return v, nil
}

func (v *Verifier) open(ctx context.Context, hc *http.Client, ic IssuerConfig) (KeySource, error) {
	// The one place every key refresh of an issuer is heard of.
	onRefresh := func(err error) {
		if err != nil {
			v.cfg.Logger.Warn("oauth: loading keys failed; the keys already loaded, if any, stay in use", "issuer", ic.Issuer, "error", err)
		}
		if v.cfg.OnRefresh != nil {
			v.cfg.OnRefresh(ic.Issuer, err)
		}
	}
	jwksURL := ic.JWKSURL
	switch {
	case ic.Keys != nil:
		return ic.Keys, nil
	case ic.JWKSFile != "":
		f, err := newFileKeys(ic.JWKSFile, 5*time.Second, onRefresh)
		if err != nil {
			return nil, err
		}
		v.closers = append(v.closers, f.Close)
		return f, nil
	case ic.Discovery:
		u, err := discover(ctx, hc, ic.Issuer, v.cfg.AllowHTTPLoopback)
		if err != nil {
			return nil, err
		}
		jwksURL = u
	}
	u, err := newURLKeys(jwksURL, urlOptions{client: hc, refresh: v.cfg.RefreshInterval, unknownKIDEvery: time.Minute, onRefresh: onRefresh})
	if err != nil {
		return nil, err
	}
	v.closers = append(v.closers, u.Close)
	return u, nil
}

// Close stops the background refreshes.
func (v *Verifier) Close() {
	for _, c := range v.closers {
		c()
	}
}

// Issuers lists the trusted issuers, sorted.
func (v *Verifier) Issuers() []string { return slices.Clone(v.names) }

// Verify checks a token of any trusted issuer: its size and shape, its
// signature with its issuer's keys, its issuer, audience (the issuer's, or
// the default), exp, nbf and iat (with the leeway and the maximum age), and
// that it has a subject.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	raw := []byte(token)
	if err := v.shape(raw); err != nil {
		return nil, err
	}
	iss, err := peekIssuer(token)
	if err != nil {
		return nil, err
	}
	ti, ok := v.issuers[iss]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUntrustedIssuer, iss)
	}
	c, err := v.parse(ctx, raw, ti, ti.audience)
	if err != nil {
		return nil, err
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: sub is required", ErrClaims)
	}
	return c, nil
}

// shape is what is checked before any cryptography.
func (v *Verifier) shape(token []byte) error {
	switch {
	case len(token) == 0:
		return ErrTokenEmpty
	case len(token) > v.cfg.MaxTokenSize:
		return fmt.Errorf("%w (%d bytes)", ErrTokenTooLarge, len(token))
	}
	return precheck(string(token))
}

// peekIssuer reads iss before the signature is checked, only to choose the
// keys to check it with; the parser then requires that same iss. The
// precheck has refused duplicate members, so there is one iss to read.
func peekIssuer(token string) (string, error) {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", fmt.Errorf("%w: payload is not base64url", ErrTokenShape)
	}
	var p struct {
		Iss any `json:"iss"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("%w: payload is not a JSON object", ErrClaims)
	}
	iss, ok := p.Iss.(string)
	if !ok {
		return "", fmt.Errorf("%w: iss is missing or not a string", ErrClaims)
	}
	return iss, nil
}

// parse checks token (shape already checked) with ti's keys and
// algorithms, for ti's issuer and audience aud. Each check is explicit, as
// golang-jwt's parser options are.
func (v *Verifier) parse(ctx context.Context, token []byte, ti *trustedIssuer, aud string) (*Claims, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods(ti.algs),
		jwt.WithIssuer(ti.name),
		jwt.WithAudience(aud),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.cfg.Leeway),
		jwt.WithTimeFunc(v.cfg.Now),
		jwt.WithStrictDecoding(),
	)
	mc := jwt.MapClaims{}
	if _, err := p.ParseWithClaims(string(token), mc, ti.keys.KeyfuncCtx(ctx)); err != nil {
		return nil, err
	}
	iat, err := mc.GetIssuedAt()
	if err != nil || iat == nil {
		return nil, fmt.Errorf("%w: iat is required", ErrClaims)
	}
	if age := v.cfg.Now().Sub(iat.Time); age > v.cfg.MaxAge+v.cfg.Leeway {
		return nil, fmt.Errorf("%w: issued %s ago, more than the maximum age %s", ErrClaims, age.Round(time.Second), v.cfg.MaxAge)
	}
	return claimsOf(mc)
}

// precheck looks at the raw segments before any cryptography: base64url
// and dots only, no nested tokens, no critical extensions we do not
// implement, no duplicate members (JSON parsers disagree on which one wins).
func precheck(token string) error {
	// Go's base64 decoders skip \r and \n: inside the signature they would
	// make a second spelling of an issued token that still verifies, and
	// defeat anything keyed by a token's text (a deny list, a cache).
	if i := strings.IndexFunc(token, func(r rune) bool { return r != '.' && !isBase64URL(r) }); i >= 0 {
		return fmt.Errorf("%w: byte %d is not base64url", ErrTokenShape, i)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("%w: %d segments", ErrTokenShape, len(parts))
	}
	for i, seg := range parts[:2] {
		raw, err := base64.RawURLEncoding.DecodeString(seg)
		if err != nil {
			return fmt.Errorf("%w: segment %d is not base64url", ErrTokenShape, i+1)
		}
		if err := noDuplicateMembers(raw); err != nil {
			return fmt.Errorf("%w: segment %d: %v", ErrTokenShape, i+1, err)
		}
		if i > 0 {
			continue
		}
		var h map[string]any
		if err := json.Unmarshal(raw, &h); err != nil {
			return fmt.Errorf("%w: header is not a JSON object", ErrTokenShape)
		}
		if _, ok := h["crit"]; ok {
			return fmt.Errorf("%w: crit header", ErrTokenShape)
		}
		if cty, _ := h["cty"].(string); strings.EqualFold(cty, "JWT") {
			return fmt.Errorf("%w: nested JWT", ErrTokenShape)
		}
	}
	return nil
}

func isBase64URL(r rune) bool {
	return 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_'
}

// noDuplicateMembers reports a JSON object with a member name twice, at any
// depth.
func noDuplicateMembers(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var walk func() error
	walk = func() error {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				name, _ := k.(string)
				if seen[name] {
					return fmt.Errorf("duplicate member %q", name)
				}
				seen[name] = true
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	if err := walk(); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

func claimMatches(v any, allowed []string) bool {
	switch x := v.(type) {
	case string:
		return slices.Contains(allowed, x)
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && slices.Contains(allowed, s) {
				return true
			}
		}
	}
	return false
}
