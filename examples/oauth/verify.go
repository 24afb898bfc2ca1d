package oauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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
	ErrTokenEmpty    = errors.New("empty token")
	ErrTokenTooLarge = errors.New("token over the size cap")
	ErrTokenShape    = errors.New("token header not acceptable")
	ErrClaims        = errors.New("token claims not acceptable")
	ErrWrongUser     = errors.New("token is for another user")
)

// verifier checks tokens; one per plugin.
type verifier struct {
	audience string
	leeway   time.Duration
	maxAge   time.Duration
	maxSize  int
	now      func() time.Time
}

// verify checks token for the account user with binding b and returns its
// claims. Each check is explicit, as golang-jwt's parser options are.
func (v *verifier) verify(keys jwt.Keyfunc, token []byte, user string, b Binding) (jwt.MapClaims, error) {
	switch {
	case len(token) == 0:
		return nil, ErrTokenEmpty
	case len(token) > v.maxSize:
		return nil, fmt.Errorf("%w (%d bytes)", ErrTokenTooLarge, len(token))
	}
	if err := precheck(string(token)); err != nil {
		return nil, err
	}
	aud := v.audience
	if b.Audience != "" {
		aud = b.Audience
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(Algorithms),
		jwt.WithIssuer(b.Issuer),
		jwt.WithAudience(aud),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
		jwt.WithStrictDecoding(),
	)
	claims := jwt.MapClaims{}
	if _, err := p.ParseWithClaims(string(token), claims, keys); err != nil {
		return nil, err
	}
	iat, err := claims.GetIssuedAt()
	if err != nil || iat == nil {
		return nil, fmt.Errorf("%w: iat is required", ErrClaims)
	}
	if v.now().Sub(iat.Time) > v.maxAge+v.leeway {
		return nil, fmt.Errorf("%w: issued %s ago, more than the maximum age %s", ErrClaims, v.now().Sub(iat.Time).Round(time.Second), v.maxAge)
	}
	who, ok := claims[b.Claim].(string)
	if !ok {
		return nil, fmt.Errorf("%w: claim %q is missing or not a string", ErrClaims, b.Claim)
	}
	if who != user {
		return nil, ErrWrongUser
	}
	for name, want := range b.BoundClaims {
		allowed, _ := allowedValues(want)
		if !claimMatches(claims[name], allowed) {
			return nil, fmt.Errorf("%w: bound claim %q does not match", ErrClaims, name)
		}
	}
	return claims, nil
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
