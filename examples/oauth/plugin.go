// Package oauth is a sample authplug extension: login with an OAuth 2.0
// access token (a JWT) as the password, the token's scopes as privileges
// that narrow the session, and an account binding that says which issuer's
// tokens, for which subject, may log in as it.
//
// # Issuers and keys
//
// A Config lists the trusted issuers (--oauth-config, or the single-issuer
// flags), each with one key source: a JWKS file, a JWKS URL, or OpenID
// Connect discovery. A Verifier keeps each issuer's keys apart: a token is
// checked with the keys of one issuer only (the account binding's, or for
// Verify its own iss), so the same kid in two key sets never lets one
// issuer's key verify another's token. Fetched URLs must be https (http
// only to a loopback address, when allowed), every response is capped at
// 1 MiB and every fetch is time-bound; fetched keys are refreshed in the
// background, and kept when the IdP is down.
//
// # Claims
//
// Scopes come from scp (a list, as Okta sends it, or a space-separated
// string, as Entra does) or scope (a space-separated string, RFC 9068). A
// token with both is accepted only if they name the same entries, and
// refused otherwise: which one was granted is not ours to guess. The
// groups claim is a list of names or a single name. A scope or groups claim
// of any other type refuses the token.
//
// The audience a token must carry is the account binding's, else its
// issuer's entry's, else the Config's.
//
// Programs that verify the same tokens (a gateway) use BindFlags, to take
// the same flags, and NewVerifier.
package oauth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// PluginName is what CREATE USER ... IDENTIFIED WITH names.
const PluginName = "authentication_oauth"

// KeySource gives the key lookup for one login, or one Verify: any fetch it
// does is bounded by that context. keyfunc.Keyfunc, FileKeys and URLKeys
// are ones.
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
	return mysqlerr.New(mysqlerr.ErAccessDenied, "28000",
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

// NewPlugin returns the authentication_oauth plugin for a Config whose
// keys the program provides (Keys, or Keys in every Issuers entry), which
// it never has to close. For JWKS files, JWKS URLs and discovery, start a
// Verifier and use its Plugin.
func NewPlugin(cfg Config) (*authplugin.AuthPlugin, error) {
	for _, ic := range cfg.Issuers {
		if ic.Keys == nil {
			return nil, fmt.Errorf("oauth: NewPlugin: issuer %s has no Keys: use NewVerifier and its Plugin", ic.Issuer)
		}
	}
	v, err := NewVerifier(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return v.Plugin(), nil
}

// Plugin returns the authentication_oauth plugin verifying tokens with v.
// An account's binding names one of v's issuers; a token logs in only if
// that issuer's keys verify it and its claims match the binding. The
// plugin does not own v: close v once the plugin is no longer served.
func (v *Verifier) Plugin() *authplugin.AuthPlugin {
	p := &plugin{v: v, isDynamic: v.cfg.IsDynamic, log: v.cfg.Logger}
	if p.isDynamic == nil {
		p.isDynamic = privilege.IsMySQLDynamicPrivilege
	}
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
	}
}

// verifyFor checks token for the account user with binding b. The
// binding, not the token, chooses the issuer and so the keys.
func (v *Verifier) verifyFor(ctx context.Context, token []byte, user string, b Binding) (*Claims, error) {
	ti, ok := v.issuers[b.Issuer]
	if !ok {
		return nil, fmt.Errorf("%w: the account is bound to %s, which the server does not trust (any longer)", ErrUntrustedIssuer, b.Issuer)
	}
	if err := v.shape(token); err != nil {
		return nil, err
	}
	c, err := v.parse(ctx, token, ti, cmp.Or(b.Audience, ti.audience))
	if err != nil {
		return nil, err
	}
	if err := b.match(c, user); err != nil {
		return nil, err
	}
	return c, nil
}

type plugin struct {
	v         *Verifier
	isDynamic func(string) bool
	log       *slog.Logger
}

// errNoPassword explains the refusal of IDENTIFIED ... BY.
var errNoPassword = errors.New(PluginName + ` accounts have no password: bind one with IDENTIFIED WITH ` + PluginName + ` AS '{"issuer":"..."}'`)

// checkBinding accepts an AS string that parses and names an issuer the
// server trusts; its error is the reason CREATE USER reports (1827).
func (p *plugin) checkBinding(s string) error {
	b, err := ParseBinding(s)
	if err != nil {
		return err
	}
	if _, ok := p.v.issuers[b.Issuer]; !ok {
		return fmt.Errorf("issuer must be one the server trusts: %s", strings.Join(p.v.names, ", "))
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
	c, err := p.v.verifyFor(ctx, req.InputAuthString, req.User, b)
	if err != nil {
		return nil, err
	}
	s := &Session{Subject: req.User, Issuer: c.Issuer, JTI: c.JTI, Expires: c.Expires, Groups: c.Groups, now: p.v.cfg.Now}
	s.lapse = c.Expires.Add(p.v.cfg.Leeway)
	switch {
	case c.ScopeClaim == "" && b.Scopes == scopesOptional:
		s.AllScopes = true
	case c.ScopeClaim != "":
		var ignored []string
		s.Scopes, ignored = parseScopeEntries(c.Scopes, p.isDynamic)
		if len(ignored) > 0 {
			p.log.Info("oauth: scope entries that grant nothing", "user", req.User, "ignored", ignored)
		}
	}
	return s, nil
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
