package oauth

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Config says which tokens are trusted: by the plugin, and by any program
// that verifies the same tokens (a gateway). Audience and Issuers are what
// an --oauth-config file holds; the other fields are set by the program.
type Config struct {
	// Audience is the audience tokens must carry, unless their issuer's
	// entry or the account's binding names another. Required.
	Audience string `json:"audience"`
	// Issuers are the trusted issuers, each with keys of its own.
	Issuers []IssuerConfig `json:"issuers"`

	// Keys and Issuer are the one-issuer form kept for programs built on
	// it: tokens of Issuer are verified with Keys. The same as an Issuers
	// entry {Issuer, Keys}, and not to be combined with Issuers.
	Keys   KeySource `json:"-"`
	Issuer string    `json:"-"`

	// AllowHTTPLoopback lets JWKS and discovery URLs be plain http when
	// they name a loopback address (tests); https is required otherwise.
	AllowHTTPLoopback bool `json:"-"`
	// HTTPClient fetches JWKS and discovery documents (default: one with a
	// 10 s timeout); a test gives one that trusts its TLS server. Every
	// fetch is made https-only and size-capped on top of it.
	HTTPClient *http.Client `json:"-"`
	// RefreshInterval is how often fetched JWKS are refreshed in the
	// background (default 1h).
	RefreshInterval time.Duration `json:"-"`
	// OnRefresh, if set, is told of every key refresh of an issuer: err is
	// nil when new keys were loaded. It must not block.
	OnRefresh func(issuer string, err error) `json:"-"`

	// Leeway absorbs clock skew in exp, nbf and iat (default 30s).
	Leeway time.Duration `json:"-"`
	// MaxAge is how old a token's iat may be (default 1h).
	MaxAge time.Duration `json:"-"`
	// MaxTokenSize caps the token before it is parsed (default 16 KiB).
	MaxTokenSize int `json:"-"`
	// IsDynamic tells dynamic privilege names in scopes (default MySQL's);
	// the plugin's only.
	IsDynamic func(string) bool `json:"-"`
	Now       func() time.Time  `json:"-"`
	Logger    *slog.Logger      `json:"-"`
}

// IssuerConfig is one trusted issuer: exactly one of JWKSFile, JWKSURL,
// Discovery (or, from a program, Keys) says where its keys are.
type IssuerConfig struct {
	// Issuer is the exact iss of its tokens. Required.
	Issuer string `json:"issuer"`
	// JWKSFile is a JWKS file, re-read when it changes. In an
	// --oauth-config file a relative path is relative to the file.
	JWKSFile string `json:"jwks_file,omitempty"`
	// JWKSURL is a JWKS endpoint (https), cached and refreshed.
	JWKSURL string `json:"jwks_url,omitempty"`
	// Discovery finds the JWKS endpoint in the issuer's OpenID Connect
	// discovery document (<issuer>/.well-known/openid-configuration), whose
	// issuer must be this one exactly.
	Discovery bool `json:"discovery,omitempty"`
	// Audience overrides Config.Audience for this issuer's tokens.
	Audience string `json:"audience,omitempty"`
	// Algorithms narrows the accepted signature algorithms (default and
	// at most: Algorithms).
	Algorithms []string `json:"algorithms,omitempty"`
	// Keys is a key source the program provides.
	Keys KeySource `json:"-"`
}

func (ic IssuerConfig) sources() int {
	n := 0
	for _, set := range []bool{ic.JWKSFile != "", ic.JWKSURL != "", ic.Discovery, ic.Keys != nil} {
		if set {
			n++
		}
	}
	return n
}

// LoadConfig reads an --oauth-config file strictly: unknown keys, trailing
// data and an issuer without exactly one key source are errors. The https
// rule, which --oauth-allow-http-loopback relaxes, is NewVerifier's.
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("oauth: config: %w", err)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("oauth: config %s: %w", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("oauth: config %s: trailing data after the JSON object", path)
	}
	for i := range c.Issuers {
		if f := c.Issuers[i].JWKSFile; f != "" && !filepath.IsAbs(f) {
			c.Issuers[i].JWKSFile = filepath.Join(filepath.Dir(path), f)
		}
	}
	if err := c.validate(false); err != nil {
		return Config{}, fmt.Errorf("oauth: config %s: %w", path, err)
	}
	return c, nil
}

// validate checks what a config says, before anything is fetched; urls
// adds the https rule.
func (c Config) validate(urls bool) error {
	if c.Audience == "" {
		return errors.New("audience is required")
	}
	if len(c.Issuers) == 0 {
		return errors.New("no issuers")
	}
	seen := map[string]bool{}
	for _, ic := range c.Issuers {
		if ic.Issuer == "" {
			return errors.New("an issuer has no name (issuer is required)")
		}
		if seen[ic.Issuer] {
			return fmt.Errorf("issuer %s is listed twice", ic.Issuer)
		}
		seen[ic.Issuer] = true
		if n := ic.sources(); n != 1 {
			return fmt.Errorf("issuer %s: give exactly one of jwks_file, jwks_url and discovery (%d given)", ic.Issuer, n)
		}
		for _, alg := range ic.Algorithms {
			if !slices.Contains(Algorithms, alg) {
				return fmt.Errorf("issuer %s: algorithm %q is not accepted (accepted: %s)", ic.Issuer, alg, strings.Join(Algorithms, ", "))
			}
		}
		switch {
		case !urls:
		case ic.JWKSURL != "":
			if err := checkFetchURL(ic.JWKSURL, c.AllowHTTPLoopback); err != nil {
				return fmt.Errorf("issuer %s: jwks_url: %w", ic.Issuer, err)
			}
		case ic.Discovery:
			if err := checkFetchURL(ic.Issuer, c.AllowHTTPLoopback); err != nil {
				return fmt.Errorf("issuer %s: discovery: %w", ic.Issuer, err)
			}
		}
	}
	return nil
}

// withDefaults folds the one-issuer form into Issuers and fills defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Keys != nil || c.Issuer != "" {
		if c.Keys == nil || c.Issuer == "" || len(c.Issuers) > 0 {
			return Config{}, errors.New("oauth: give Keys with Issuer, or Issuers")
		}
		c.Issuers = []IssuerConfig{{Issuer: c.Issuer, Keys: c.Keys}}
		c.Keys, c.Issuer = nil, ""
	}
	if err := c.validate(true); err != nil {
		return Config{}, fmt.Errorf("oauth: %w", err)
	}
	if c.Leeway == 0 {
		c.Leeway = 30 * time.Second
	}
	if c.Leeway < 0 || c.Leeway > 5*time.Minute {
		return Config{}, errors.New("oauth: leeway must be between 0 and 5 minutes")
	}
	if c.MaxAge == 0 {
		c.MaxAge = time.Hour
	}
	if c.MaxTokenSize == 0 {
		c.MaxTokenSize = 16 << 10
	}
	if c.RefreshInterval == 0 {
		c.RefreshInterval = time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

// trackedString is a string flag that knows whether it was given: the
// single-issuer flags and --oauth-config exclude each other even when a
// flag is given its default value.
type trackedString struct {
	val string
	set bool
}

func (s *trackedString) String() string {
	if s == nil {
		return ""
	}
	return s.val
}

func (s *trackedString) Set(v string) error {
	s.val, s.set = v, true
	return nil
}

// BindFlags declares the --oauth-* flags on fs and returns what reads the
// Config from them once fs is parsed: the server's extension and any other
// program verifying the same tokens (a gateway) take the same flags.
// Either --oauth-config names a config file, or the single-issuer flags
// (--oauth-issuer, --oauth-audience, --oauth-jwks-file, --oauth-jwks-url)
// describe one issuer; both is an error. With the single-issuer flags and
// no JWKS, the one issuer has no key source: the server then uses its dev
// IdP's, and NewVerifier refuses such a Config.
func BindFlags(fs *flag.FlagSet) func() (Config, error) {
	var (
		file, issuer, audience, jwksFile, jwksURL trackedString
		maxAge, leeway                            time.Duration
		allowHTTPLoopback                         bool
	)
	issuer.val, audience.val = DevIssuer, DefaultAudience
	fs.Var(&file, "oauth-config", "JSON file of the trusted issuers and the audience (excludes --oauth-issuer, --oauth-audience, --oauth-jwks-file and --oauth-jwks-url)")
	fs.Var(&issuer, "oauth-issuer", "the issuer token accounts may be bound to")
	fs.Var(&audience, "oauth-audience", "the audience tokens must carry")
	fs.Var(&jwksFile, "oauth-jwks-file", "JWKS to verify tokens with, re-read when it changes; default: a dev IdP key in --data-dir")
	fs.Var(&jwksURL, "oauth-jwks-url", "JWKS endpoint (https) of the identity provider, cached and refreshed in the background")
	fs.DurationVar(&maxAge, "oauth-max-age", time.Hour, "how old a token's iat may be")
	fs.DurationVar(&leeway, "oauth-leeway", 30*time.Second, "clock skew allowed on exp, nbf and iat")
	fs.BoolVar(&allowHTTPLoopback, "oauth-allow-http-loopback", false, "allow plain http JWKS and discovery URLs to loopback addresses (tests only)")
	return func() (Config, error) {
		var c Config
		if file.set {
			var given []string
			for name, f := range map[string]*trackedString{"issuer": &issuer, "audience": &audience, "jwks-file": &jwksFile, "jwks-url": &jwksURL} {
				if f.set {
					given = append(given, "--oauth-"+name)
				}
			}
			if len(given) > 0 {
				slices.Sort(given)
				return Config{}, fmt.Errorf("oauth: --oauth-config excludes %s: give the issuers in the file", strings.Join(given, ", "))
			}
			loaded, err := LoadConfig(file.val)
			if err != nil {
				return Config{}, err
			}
			c = loaded
		} else {
			if jwksFile.val != "" && jwksURL.val != "" {
				return Config{}, errors.New("oauth: give a JWKS file or a JWKS URL, not both")
			}
			// An empty issuer would let bindings name any issuer.
			c.Audience = cmp.Or(audience.val, DefaultAudience)
			c.Issuers = []IssuerConfig{{Issuer: cmp.Or(issuer.val, DevIssuer), JWKSFile: jwksFile.val, JWKSURL: jwksURL.val}}
		}
		c.MaxAge, c.Leeway, c.AllowHTTPLoopback = maxAge, leeway, allowHTTPLoopback
		return c, nil
	}
}
