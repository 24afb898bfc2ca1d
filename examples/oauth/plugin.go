// Package oauth is a sample authplug extension: login with an OAuth 2.0
// access token (a JWT) as the password, the token's scopes as privileges
// that narrow the session, and an account binding that says which issuer's
// tokens, for which subject, may log in as it.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// PluginName is what CREATE USER ... IDENTIFIED WITH names.
const PluginName = "authentication_oauth"

// Config configures the plugin.
type Config struct {
	// Keys finds the key that verifies a token (by kid); any fetch it does
	// is bounded by the login's context. keyfunc.Keyfunc is one. Required.
	Keys KeySource
	// Audience is the audience tokens must carry, unless an account's
	// binding names its own. Required.
	Audience string
	// Issuer, if set, is the only issuer an account binding may name.
	Issuer string
	// Leeway absorbs clock skew in exp, nbf and iat (default 30s).
	Leeway time.Duration
	// MaxAge is how old a token's iat may be (default 1h).
	MaxAge time.Duration
	// MaxTokenSize caps the token before it is parsed (default 16 KiB).
	MaxTokenSize int
	// IsDynamic tells dynamic privilege names in scopes (default MySQL's).
	IsDynamic func(string) bool
	Now       func() time.Time
	Logger    *slog.Logger
}

// KeySource gives the key lookup for one login.
type KeySource interface {
	KeyfuncCtx(ctx context.Context) jwt.Keyfunc
}

// Session is the state a token login leaves with its session.
type Session struct {
	Subject string
	Issuer  string
	JTI     string
	Expires time.Time
	Groups  []string
	Scopes  []Scope
	// AllScopes is true when the account's binding makes scopes optional
	// and the token carried none: the stored grants alone decide.
	AllScopes bool

	lapse time.Time // Expires plus leeway
	now   func() time.Time
}

// ValidateSession refuses every statement once the token has expired: the
// client is told to reconnect with a new token.
func (s *Session) ValidateSession() error {
	if s.now().Before(s.lapse) {
		return nil
	}
	return mysqlerr.Errorf(mysqlerr.ErAccessDenied,
		"Access denied for user '%s': the session's token expired at %s; reconnect with a new token",
		s.Subject, s.Expires.UTC().Format(time.RFC3339))
}

// AllowSelfChange lets the session change its own account (SET PASSWORD,
// SET DEFAULT ROLE ... TO CURRENT_USER()) only when a scope covers it: the
// create_user scope, or a binding whose scopes are optional and a token
// with none. A token narrowed to reading one database must not reach past
// itself to the account.
func (s *Session) AllowSelfChange(change authplugin.SelfChange) error {
	if s.AllScopes {
		return nil
	}
	for _, sc := range s.Scopes {
		if sc.covers(priv.CreateUser, "", "") {
			return nil
		}
	}
	return fmt.Errorf("oauth: the token's scopes do not cover %s on the account (scope create_user)", change)
}

// ActivateRoles activates, beside the default roles, the granted roles named
// by the token's groups. A group never grants a role: authplug keeps only
// roles already granted to the account.
func (s *Session) ActivateRoles(granted, defaults []priv.Account) []priv.Account {
	out := defaults
	for _, r := range granted {
		if slices.Contains(s.Groups, r.User) {
			out = append(out, r)
		}
	}
	return out
}

// NewPlugin returns the authentication_oauth plugin.
func NewPlugin(cfg Config) (*authplugin.AuthPlugin, error) {
	if cfg.Keys == nil || cfg.Audience == "" {
		return nil, errors.New("oauth: Keys and Audience are required")
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.Leeway < 0 || cfg.Leeway > 5*time.Minute {
		return nil, errors.New("oauth: leeway must be between 0 and 5 minutes")
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.MaxTokenSize == 0 {
		cfg.MaxTokenSize = 16 << 10
	}
	if cfg.IsDynamic == nil {
		cfg.IsDynamic = privilege.IsMySQLDynamicPrivilege
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	v := &verifier{audience: cfg.Audience, leeway: cfg.Leeway, maxAge: cfg.MaxAge, maxSize: cfg.MaxTokenSize, now: cfg.Now}
	p := &plugin{cfg: cfg, v: v}
	return &authplugin.AuthPlugin{
		Name:                     PluginName,
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser:         p.authenticate,
		// Token accounts have no password: IDENTIFIED ... BY is refused.
		GenerateAuthString:     func(string) (string, bool) { return "", false },
		ExplainPassword:        func(string) error { return errNoPassword },
		ValidateAuthString:     func(s string) bool { return p.checkBinding(s) == nil },
		ExplainAuthString:      p.checkBinding,
		VerifyPrivilege:        p.verifyPrivilege,
		VerifyDynamicPrivilege: p.verifyDynamic,
	}, nil
}

type plugin struct {
	cfg Config
	v   *verifier
}

// errNoPassword explains the refusal of IDENTIFIED ... BY.
var errNoPassword = errors.New(PluginName + ` accounts have no password: bind one with IDENTIFIED WITH ` + PluginName + ` AS '{"issuer":"..."}'`)

// checkBinding accepts an AS string that parses and names the issuer the
// server trusts; its error is the reason CREATE USER reports.
func (p *plugin) checkBinding(s string) error {
	b, err := ParseBinding(s)
	if err != nil {
		return err
	}
	if p.cfg.Issuer != "" && b.Issuer != p.cfg.Issuer {
		return fmt.Errorf("issuer must be the one the server trusts: %s", p.cfg.Issuer)
	}
	return nil
}

func (p *plugin) authenticate(ctx context.Context, req authplugin.AuthenticateRequest) (any, error) {
	if !req.SecureTransport {
		return nil, authplugin.ErrInsecureTransport
	}
	b, err := ParseBinding(req.StoredAuthString)
	if err != nil {
		return nil, fmt.Errorf("oauth: account binding: %w", err)
	}
	claims, err := p.v.verify(p.cfg.Keys.KeyfuncCtx(ctx), req.InputAuthString, req.User, b)
	if err != nil {
		return nil, err
	}
	s := &Session{Subject: req.User, now: p.cfg.Now}
	s.Issuer, _ = claims["iss"].(string)
	s.JTI, _ = claims["jti"].(string)
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil {
		s.Expires = exp.Time
		s.lapse = exp.Time.Add(p.cfg.Leeway)
	}
	if g, ok := claims["groups"]; ok {
		if s.Groups, err = stringList(g); err != nil {
			return nil, fmt.Errorf("%w: groups: %v", ErrClaims, err)
		}
	}
	switch sc, ok := claims["scope"]; {
	case !ok && b.Scopes == scopesOptional:
		s.AllScopes = true
	case ok:
		str, isString := sc.(string)
		if !isString {
			return nil, fmt.Errorf("%w: scope must be a space-separated string", ErrClaims)
		}
		var ignored []string
		s.Scopes, ignored = ParseScopes(str, p.cfg.IsDynamic)
		if len(ignored) > 0 {
			p.cfg.Logger.Info("oauth: scope entries that grant nothing", "user", req.User, "ignored", ignored)
		}
	}
	return s, nil
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

// live reports whether the session's token is still valid; after its exp
// (and leeway) the session's plugin privileges lapse.
func (p *plugin) live(s *Session) bool { return s.ValidateSession() == nil }

func (p *plugin) verifyPrivilege(req authplugin.AuthorizeRequest) bool {
	s, ok := req.SessionState.(*Session)
	if !ok || !p.live(s) {
		return false
	}
	if s.AllScopes {
		return true
	}
	return slices.ContainsFunc(s.Scopes, func(sc Scope) bool { return sc.covers(req.Priv, req.DB, req.Table) })
}

func (p *plugin) verifyDynamic(req authplugin.AuthorizeRequest) bool {
	s, ok := req.SessionState.(*Session)
	if !ok || !p.live(s) {
		return false
	}
	if s.AllScopes {
		return true
	}
	return slices.ContainsFunc(s.Scopes, func(sc Scope) bool { return sc.Dynamic == req.PrivName })
}
