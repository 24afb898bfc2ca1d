package oauth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A fixed key, so that the committed corpus' signed tokens stay valid.
var (
	fuzzKey  = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	fuzzNow  = time.Unix(1_750_000_000, 0)
	fuzzUser = "alice@example.com"
	fuzzBind = Binding{Issuer: issuer, Claim: "sub", BoundClaims: map[string]any{"tenant": "acme"}}
)

func fuzzKeys(t *jwt.Token) (any, error) { return fuzzKey.Public(), nil }

// fuzzVerifier checks a token as the plugin does for fuzzUser bound by
// fuzzBind.
func fuzzVerifier() func(token []byte) (*Claims, error) {
	v, err := NewVerifier(context.Background(), Config{Audience: audience, Issuer: issuer, Keys: staticKeys(fuzzKeys), Now: func() time.Time { return fuzzNow }})
	if err != nil {
		panic(err)
	}
	return func(token []byte) (*Claims, error) {
		return v.verifyFor(context.Background(), token, fuzzUser, fuzzBind)
	}
}

// signRaw signs a payload as it is, so that the fuzzer, not json.Marshal,
// chooses its bytes.
func signRaw(header, payload []byte) string {
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	return signing + "." + enc.EncodeToString(ed25519.Sign(fuzzKey, []byte(signing)))
}

var fuzzHeader = []byte(`{"alg":"EdDSA","typ":"JWT","kid":"ed-1"}`)

func goodClaims() []byte {
	return fmt.Appendf(nil, `{"iss":%q,"aud":%q,"sub":%q,"tenant":"acme","iat":%d,"exp":%d}`,
		issuer, audience, fuzzUser, fuzzNow.Unix()-60, fuzzNow.Unix()+600)
}

// FuzzTokenText feeds token text before any signature check. Text the
// fuzzer makes up carries no valid signature, so nothing but the one token
// signed here may be accepted.
func FuzzTokenText(f *testing.F) {
	good := signRaw(fuzzHeader, goodClaims())
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.")
	f.Add(signRaw([]byte(`{"alg":"EdDSA","crit":["x"]}`), goodClaims()))
	f.Add(signRaw([]byte(`{"alg":"EdDSA","cty":"JWT"}`), goodClaims()))
	f.Add(signRaw([]byte(`{"alg":"HS256"}`), goodClaims()))
	v := fuzzVerifier()
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := v([]byte(token)); err == nil && token != good {
			t.Fatalf("accepted a token not signed here: %q", token)
		}
	})
}

// FuzzTokenClaims signs fuzzed claims with a trusted key: the checks after
// the signature must still hold for whatever the issuer put in.
func FuzzTokenClaims(f *testing.F) {
	f.Add(goodClaims())
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"iss":"https://idp.example.com","aud":["authplug","x"],"sub":"alice@example.com","tenant":["acme"],"iat":1749999990,"exp":1750000600}`))
	f.Add([]byte(`{"iss":"https://idp.example.com","aud":"authplug","sub":"alice@example.com","tenant":"acme","iat":1e300,"exp":1750000600}`))
	f.Add([]byte(`{"sub":"alice@example.com","sub":"root"}`))
	f.Add([]byte(`[1,2,3]`))
	v := fuzzVerifier()
	f.Fuzz(func(t *testing.T, payload []byte) {
		claims, err := v([]byte(signRaw(fuzzHeader, payload)))
		if err != nil {
			return
		}
		must := func(ok bool, what string) {
			if !ok {
				t.Fatalf("accepted %s: %s", payload, what)
			}
		}
		must(claims.All["sub"] == fuzzUser && claims.Subject == fuzzUser, "sub is not the user")
		must(claims.All["iss"] == issuer && claims.Issuer == issuer, "another issuer")
		must(contains(claims.Audience, audience), "another audience")
		must(!claims.Expires.IsZero() && fuzzNow.Before(claims.Expires.Add(30*time.Second)), "expired or no exp")
		must(!claims.IssuedAt.IsZero() && fuzzNow.Sub(claims.IssuedAt) <= time.Hour+30*time.Second, "no iat or too old")
		must(claimMatches(claims.All["tenant"], []string{"acme"}), "bound claim not matched")
	})
}

// FuzzTokenSignature changes a valid token's signature: only the real one
// (Ed25519 signatures are unique) may pass.
func FuzzTokenSignature(f *testing.F) {
	good := signRaw(fuzzHeader, goodClaims())
	i := bytes.LastIndexByte([]byte(good), '.')
	sig, _ := base64.RawURLEncoding.DecodeString(good[i+1:])
	f.Add(sig)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, ed25519.SignatureSize))
	v := fuzzVerifier()
	f.Fuzz(func(t *testing.T, s []byte) {
		token := good[:i+1] + base64.RawURLEncoding.EncodeToString(s)
		if _, err := v([]byte(token)); err == nil && !bytes.Equal(s, sig) {
			t.Fatalf("accepted a forged signature %x", s)
		}
	})
}

// FuzzParseBinding feeds AS strings: an accepted binding has an issuer,
// well-formed bound claims, and reads back the same once written out.
func FuzzParseBinding(f *testing.F) {
	for _, s := range []string{
		`{"issuer":"https://idp.example.com"}`,
		`{"issuer":"https://idp.example.com","claim":"email","audience":"db","bound_claims":{"tenant":["acme","globex"]},"scopes":"optional"}`,
		`{"issuer":"x","bound_claims":{"t":[]}}`,
		`{"issuer":"x"} {}`,
		`{"Issuer":"x"}`,
		`[]`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParseBinding(s)
		if err != nil {
			return
		}
		if b.Issuer == "" || b.Claim == "" || (b.Scopes != scopesRequired && b.Scopes != scopesOptional) {
			t.Fatalf("%q: accepted %+v", s, b)
		}
		for k, want := range b.BoundClaims {
			if vals, err := allowedValues(want); err != nil || len(vals) == 0 {
				t.Fatalf("%q: bound claim %q accepted as %v", s, k, want)
			}
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := ParseBinding(string(out))
		if len(b.BoundClaims) == 0 {
			b.BoundClaims = nil // {} and none mean the same
		}
		if err != nil || !reflect.DeepEqual(b, b2) {
			t.Fatalf("%q: written out as %s, reads back as %+v (%v)", s, out, b2, err)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
