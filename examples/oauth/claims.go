package oauth

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is what a verified token says.
type Claims struct {
	Issuer string
	// Subject is the sub claim; "" when the token has none (Verify refuses
	// such a token; an account's binding may name another claim).
	Subject  string
	Audience []string
	JTI      string
	IssuedAt time.Time
	Expires  time.Time
	// Scopes are the token's scope entries, from scp (a list, or a
	// space-separated string) or scope (a space-separated string). A token
	// with both is accepted only when they name the same entries.
	Scopes []string
	// ScopeClaim names the claim Scopes came from: "scp", "scope", or ""
	// when the token has neither.
	ScopeClaim string
	// Groups are the groups claim: a list of names, or a single name.
	Groups []string
	// All is every claim as decoded, for those the fields above leave out.
	All map[string]any
}

// claimsOf reads the claims of a token the parser has verified: exp and
// iat are there and well typed.
func claimsOf(mc jwt.MapClaims) (*Claims, error) {
	c := &Claims{All: mc}
	c.Issuer, _ = mc["iss"].(string)
	c.Subject, _ = mc["sub"].(string)
	c.JTI, _ = mc["jti"].(string)
	c.Audience, _ = mc.GetAudience()
	if exp, err := mc.GetExpirationTime(); err == nil && exp != nil {
		c.Expires = exp.Time
	}
	if iat, err := mc.GetIssuedAt(); err == nil && iat != nil {
		c.IssuedAt = iat.Time
	}
	var err error
	if c.Scopes, c.ScopeClaim, err = scopesOf(mc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrClaims, err)
	}
	if g, ok := mc["groups"]; ok {
		if c.Groups, err = stringOrList(g, func(s string) []string { return []string{s} }); err != nil {
			return nil, fmt.Errorf("%w: groups %v", ErrClaims, err)
		}
	}
	return c, nil
}

// scopesOf reads scp and scope. Okta sends scp as a list, Entra as a
// space-separated string, most others send scope (RFC 9068), and some
// (Ory Hydra, configured so) send both with the same entries. Both with
// different entries is refused: which one was granted is not ours to guess.
func scopesOf(mc jwt.MapClaims) ([]string, string, error) {
	scp, hasScp := mc["scp"]
	scope, hasScope := mc["scope"]
	var fromScp, fromScope []string
	if hasScp {
		var err error
		if fromScp, err = stringOrList(scp, strings.Fields); err != nil {
			return nil, "", fmt.Errorf("scp %v", err)
		}
	}
	if hasScope {
		s, ok := scope.(string)
		if !ok {
			return nil, "", errors.New("scope must be a space-separated string (a list is scp)")
		}
		fromScope = strings.Fields(s)
	}
	if len(fromScp) == 0 {
		fromScp = nil
	}
	if len(fromScope) == 0 {
		fromScope = nil
	}
	switch {
	case hasScp && hasScope:
		if !sameEntries(fromScp, fromScope) {
			return nil, "", errors.New("scp and scope name different scopes")
		}
		return fromScp, "scp", nil
	case hasScp:
		return fromScp, "scp", nil
	case hasScope:
		return fromScope, "scope", nil
	}
	return nil, "", nil
}

// stringOrList reads a claim that is a string (split by fromString) or a
// list of strings.
func stringOrList(v any, fromString func(string) []string) ([]string, error) {
	if s, ok := v.(string); ok {
		if s == "" {
			return nil, nil
		}
		return fromString(s), nil
	}
	out, err := stringList(v)
	if err != nil {
		return nil, errors.New("must be a string or a list of strings")
	}
	return out, nil
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("must be a list of strings")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, errors.New("must be a list of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

func sameEntries(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
