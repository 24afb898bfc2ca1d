package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
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

// ParseBinding reads an AS string strictly: malformed JSON, unknown keys
// (matched exactly, case included), trailing data and wrongly typed values
// are errors. An error is the reason CREATE USER shows its author, so it
// says what is wrong and what is expected.
func ParseBinding(s string) (Binding, error) {
	var b Binding
	type field struct {
		dst  any
		want string
	}
	fields := map[string]field{
		"issuer":       {&b.Issuer, "a string"},
		"claim":        {&b.Claim, "a string"},
		"audience":     {&b.Audience, "a string"},
		"bound_claims": {&b.BoundClaims, "an object"},
		"scopes":       {&b.Scopes, "a string"},
	}
	raw, err := bindingObject(s)
	if err != nil {
		return Binding{}, err
	}
	// Sorted, so that a string with several faults always gets one reason.
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		f, ok := fields[k]
		if !ok {
			return Binding{}, fmt.Errorf("unknown key %q (the keys are issuer, claim, audience, bound_claims and scopes)", k)
		}
		if err := json.Unmarshal(raw[k], f.dst); err != nil {
			return Binding{}, fmt.Errorf("%s must be %s", k, f.want)
		}
	}
	if b.Issuer == "" {
		return Binding{}, errors.New("issuer is required")
	}
	if b.Claim == "" {
		b.Claim = "sub"
	}
	switch b.Scopes {
	case "":
		b.Scopes = scopesRequired
	case scopesRequired, scopesOptional:
	default:
		return Binding{}, fmt.Errorf("scopes must be %q or %q", scopesRequired, scopesOptional)
	}
	for _, k := range slices.Sorted(maps.Keys(b.BoundClaims)) {
		if _, err := allowedValues(b.BoundClaims[k]); err != nil {
			return Binding{}, fmt.Errorf("bound claim %q: %w", k, err)
		}
	}
	return b, nil
}

// bindingObject splits an AS string into its top-level members.
func bindingObject(s string) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(s))
	err := dec.Decode(&raw)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return nil, errors.New(`empty: give a JSON object such as {"issuer":"..."}`)
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("malformed JSON at byte %d: %w", syntax.Offset, err)
	case errors.As(err, &typ):
		return nil, fmt.Errorf("must be a JSON object, not a JSON %s", typ.Value)
	case err != nil:
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	// Token, not More: More misses a stray closing } or ].
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON object")
	}
	return raw, nil
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

// match checks a verified token's claims against the binding for the
// account user.
func (b Binding) match(c *Claims, user string) error {
	who, ok := c.All[b.Claim].(string)
	if !ok {
		return fmt.Errorf("%w: claim %q is missing or not a string", ErrClaims, b.Claim)
	}
	if who != user {
		return ErrWrongUser
	}
	for _, name := range slices.Sorted(maps.Keys(b.BoundClaims)) {
		allowed, _ := allowedValues(b.BoundClaims[name])
		if !claimMatches(c.All[name], allowed) {
			return fmt.Errorf("%w: bound claim %q does not match", ErrClaims, name)
		}
	}
	return nil
}
