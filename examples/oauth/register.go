package oauth

import (
	"context"
	"errors"
	"flag"
	"fmt"

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

func declareFlags(fs *flag.FlagSet) extension.SetupFunc {
	config := BindFlags(fs)
	return func(ctx context.Context, h extension.Host) ([]extension.Option, error) {
		cfg, err := config()
		if err != nil {
			return nil, err
		}
		cfg.Logger = h.Logger
		jwks, err := newJWKSMetrics(h.Metrics)
		if err != nil {
			return nil, fmt.Errorf("oauth: metrics: %w", err)
		}
		cfg.OnRefresh = jwks.refreshed
		if len(cfg.Issuers) == 1 && cfg.Issuers[0].sources() == 0 {
			// The single-issuer flags without a JWKS: the dev IdP's.
			if h.DataDir == "" {
				return nil, errors.New("oauth: a JWKS file or URL, or a data directory for the dev IdP, is needed")
			}
			dev, err := LoadDevIdP(h.DataDir)
			if err != nil {
				return nil, fmt.Errorf("oauth: dev IdP: %w", err)
			}
			cfg.Issuers[0].JWKSFile = dev.JWKSPath()
		}
		v, err := NewVerifier(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return []extension.Option{
			extension.WithCustomAuthPlugins(v.Plugin()),
			extension.WithSessionHandlerFactory(NewAuditor(h.Audit).Handler),
			extension.WithClose(v.Close),
		}, nil
	}
}
