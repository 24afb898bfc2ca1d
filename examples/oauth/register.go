package oauth

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/authplug/authplug/extension"
)

// DevIssuer is the dev IdP's issuer.
const DevIssuer = "authplug-dev"

// DefaultAudience is the audience tokens carry unless configured.
const DefaultAudience = "authplug"

// The extension declares its own --oauth-* flags and the token subcommand:
// a host that blank-imports this package serves it without a line of code.
func init() {
	if err := extension.RegisterConfigurable("oauth", declareFlags, tokenCommand); err != nil {
		panic(err)
	}
}

// settings are the --oauth-* flags' values and what the host tells the
// extension.
type settings struct {
	issuer, audience  string
	jwksFile, jwksURL string
	maxAge, leeway    time.Duration

	dataDir string
	audit   io.Writer
	logger  *slog.Logger
}

func declareFlags(fs *flag.FlagSet) extension.SetupFunc {
	s := &settings{}
	fs.StringVar(&s.issuer, "oauth-issuer", DevIssuer, "the issuer token accounts may be bound to")
	fs.StringVar(&s.audience, "oauth-audience", DefaultAudience, "the audience tokens must carry")
	fs.StringVar(&s.jwksFile, "oauth-jwks-file", "", "JWKS to verify tokens with, re-read when it changes; default: a dev IdP key in --data-dir")
	fs.StringVar(&s.jwksURL, "oauth-jwks-url", "", "JWKS endpoint of the identity provider (cached, refreshed in the background)")
	fs.DurationVar(&s.maxAge, "oauth-max-age", time.Hour, "how old a token's iat may be")
	fs.DurationVar(&s.leeway, "oauth-leeway", 30*time.Second, "clock skew allowed on exp, nbf and iat")
	return func(_ context.Context, h extension.Host) ([]extension.Option, error) {
		s.dataDir, s.audit, s.logger = h.DataDir, h.Audit, h.Logger
		return s.options()
	}
}

func (s *settings) options() ([]extension.Option, error) {
	// An empty issuer would let bindings name any issuer.
	if s.issuer == "" {
		s.issuer = DevIssuer
	}
	if s.audience == "" {
		s.audience = DefaultAudience
	}
	if s.jwksURL != "" && s.jwksFile != "" {
		return nil, errors.New("oauth: give a JWKS file or a JWKS URL, not both")
	}
	var keys interface {
		KeySource
		Close()
	}
	path := s.jwksFile
	switch {
	case s.jwksURL != "":
		u, err := NewURLKeys(s.jwksURL, time.Hour, time.Minute, s.logger)
		if err != nil {
			return nil, err
		}
		keys = u
	case path == "":
		if s.dataDir == "" {
			return nil, errors.New("oauth: a JWKS file or a data directory for the dev IdP is needed")
		}
		dev, err := LoadDevIdP(s.dataDir)
		if err != nil {
			return nil, fmt.Errorf("oauth: dev IdP: %w", err)
		}
		path = dev.JWKSPath()
		fallthrough
	default:
		f, err := NewFileKeys(path, 5*time.Second, s.logger)
		if err != nil {
			return nil, err
		}
		keys = f
	}
	p, err := NewPlugin(Config{Keys: keys, Audience: s.audience, Issuer: s.issuer, MaxAge: s.maxAge, Leeway: s.leeway, Logger: s.logger})
	if err != nil {
		keys.Close()
		return nil, err
	}
	return []extension.Option{
		extension.WithCustomAuthPlugins(p),
		extension.WithSessionHandlerFactory(NewAuditor(s.audit).Handler),
		extension.WithClose(keys.Close),
	}, nil
}
