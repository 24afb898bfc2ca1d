package oauth

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/authplug/authplug/extension"
)

// Settings are the server's --oauth-* flags.
type Settings struct {
	// Issuer is the only issuer account bindings may name (default
	// DevIssuer).
	Issuer string
	// Audience tokens must carry (default "authplug").
	Audience string
	// JWKSFile is a JWKS to verify tokens with; empty means the dev IdP's,
	// created in DataDir.
	JWKSFile string
	// JWKSURL is an IdP's JWKS endpoint (exclusive with JWKSFile).
	JWKSURL string
	DataDir string
	// MaxAge and Leeway are Config's (defaults 1h and 30s).
	MaxAge, Leeway time.Duration
	// Audit receives the audit log's JSON lines (default: standard error).
	Audit  io.Writer
	Logger *slog.Logger
}

// DevIssuer is the dev IdP's issuer.
const DevIssuer = "authplug-dev"

// DefaultAudience is the audience tokens carry unless configured.
const DefaultAudience = "authplug"

var settings atomic.Pointer[Settings]

// Configure gives the extension its settings; call it before the
// extensions are set up. Without it the extension adds nothing.
func Configure(s Settings) { settings.Store(&s) }

func init() {
	if err := extension.RegisterFactory("oauth", factory); err != nil {
		panic(err)
	}
}

func factory() ([]extension.Option, error) {
	s := settings.Load()
	if s == nil {
		return nil, nil
	}
	if s.Issuer == "" {
		s.Issuer = DevIssuer
	}
	if s.Audience == "" {
		s.Audience = DefaultAudience
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.JWKSURL != "" && s.JWKSFile != "" {
		return nil, errors.New("oauth: give a JWKS file or a JWKS URL, not both")
	}
	var keys interface {
		KeySource
		Close()
	}
	path := s.JWKSFile
	switch {
	case s.JWKSURL != "":
		u, err := NewURLKeys(s.JWKSURL, time.Hour, time.Minute, s.Logger)
		if err != nil {
			return nil, err
		}
		keys = u
	case path == "":
		if s.DataDir == "" {
			return nil, errors.New("oauth: a JWKS file or a data directory for the dev IdP is needed")
		}
		dev, err := LoadDevIdP(s.DataDir)
		if err != nil {
			return nil, fmt.Errorf("oauth: dev IdP: %w", err)
		}
		path = dev.JWKSPath()
		fallthrough
	default:
		f, err := NewFileKeys(path, 5*time.Second, s.Logger)
		if err != nil {
			return nil, err
		}
		keys = f
	}
	p, err := NewPlugin(Config{Keys: keys, Audience: s.Audience, Issuer: s.Issuer, MaxAge: s.MaxAge, Leeway: s.Leeway, Logger: s.Logger})
	if err != nil {
		keys.Close()
		return nil, err
	}
	audit := s.Audit
	if audit == nil {
		audit = os.Stderr
	}
	return []extension.Option{
		extension.WithCustomAuthPlugins(p),
		extension.WithSessionHandlerFactory(NewAuditor(audit).Handler),
		extension.WithClose(keys.Close),
	}, nil
}
