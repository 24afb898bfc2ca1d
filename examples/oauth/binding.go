package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Binding is what an account's AS string says about the tokens that may log
// in as it:
//
//	CREATE USER 'alice@example.com' IDENTIFIED WITH authentication_oauth
//	  AS '{"issuer":"https://idp.example.com","bound_claims":{"tenant":"acme"}}'
type Binding struct {
	// Issuer is the only issuer accepted (required).
	Issuer string `json:"issuer"`
	// Claim names the claim that must equal the account's user name
	// (default "sub").
	Claim string `json:"claim,omitempty"`
	// Audience overrides the server's audience for this account.
	Audience string `json:"audience,omitempty"`
	// BoundClaims maps claim names to a value, or a list of values, one of
	// which the token's claim must equal.
	BoundClaims map[string]any `json:"bound_claims,omitempty"`
	// Scopes is "required" (default: a token without a scope claim grants
	// nothing) or "optional" (then the stored grants alone decide).
	Scopes string `json:"scopes,omitempty"`
}

const (
	scopesRequired = "required"
	scopesOptional = "optional"
)

// ParseBinding reads an AS string strictly: malformed JSON, unknown keys,
// trailing data and wrongly typed values are errors.
func ParseBinding(s string) (Binding, error) {
	var b Binding
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Binding{}, fmt.Errorf("oauth binding: %w", err)
	}
	if dec.More() {
		return Binding{}, errors.New("oauth binding: trailing data after the JSON object")
	}
	if b.Issuer == "" {
		return Binding{}, errors.New("oauth binding: issuer is required")
	}
	if b.Claim == "" {
		b.Claim = "sub"
	}
	switch b.Scopes {
	case "":
		b.Scopes = scopesRequired
	case scopesRequired, scopesOptional:
	default:
		return Binding{}, fmt.Errorf("oauth binding: scopes must be %q or %q", scopesRequired, scopesOptional)
	}
	for k, v := range b.BoundClaims {
		if _, err := allowedValues(v); err != nil {
			return Binding{}, fmt.Errorf("oauth binding: bound claim %q: %w", k, err)
		}
	}
	return b, nil
}

// allowedValues is a bound claim's value or list of values.
func allowedValues(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return []string{x}, nil
	case []any:
		out, err := stringList(x)
		if err == nil && len(out) == 0 {
			err = errors.New("empty list")
		}
		return out, err
	}
	return nil, errors.New("must be a string or a list of strings")
}
