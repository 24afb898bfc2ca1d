package authplugin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/authplug/authplug/priv"
)

// Client-side plugin names that server plugins ask the client to use.
const (
	NativePasswordName      = "mysql_native_password"
	CachingSHA2PasswordName = "caching_sha2_password"
	ClearPasswordName       = "mysql_clear_password"
)

// AuthPlugin is a server-side authentication plugin.
type AuthPlugin struct {
	// Name is what CREATE USER ... IDENTIFIED WITH names, in lower case.
	Name string

	// RequiredClientSidePlugin is the client plugin the client must switch to
	// (e.g. mysql_clear_password for a token plugin). Empty means Name.
	RequiredClientSidePlugin string

	// AuthenticateUser decides a login. A nil error accepts it; state is kept
	// with the session and passed to VerifyPrivilege and
	// VerifyDynamicPrivilege. ctx carries the login deadline.
	AuthenticateUser func(ctx context.Context, req AuthenticateRequest) (state any, err error)

	// GenerateAuthString turns the password of CREATE/ALTER USER ... BY into
	// the string stored for the account; false rejects the password.
	GenerateAuthString func(password string) (string, bool)

	// ValidateAuthString checks a stored string or one given with
	// IDENTIFIED ... AS.
	ValidateAuthString func(authString string) bool

	// ExplainAuthString says why ValidateAuthString refused authString; it
	// is called only after a refusal, and nil means no reason to give.
	// Optional. The error's text is shown to the client and logged, so it
	// must not repeat a secret the string may hold.
	ExplainAuthString func(authString string) error

	// ExplainPassword says why GenerateAuthString refused password; it is
	// called only after a refusal, and nil means no reason to give.
	// Optional. The error's text is shown to the client and logged: it must
	// never contain the password.
	ExplainPassword func(password string) error

	// VerifyPassword reports whether password is the one authString was
	// generated from, comparing in constant time. Optional: only plugins
	// that store a password hash set it; ALTER USER ... REPLACE and
	// PASSWORD REQUIRE CURRENT need it.
	VerifyPassword func(authString, password string) bool

	// VerifyPrivilege is asked, for the session's own requests, only after the
	// stored grants allowed the request: it can narrow, never widen. Optional.
	VerifyPrivilege func(req AuthorizeRequest) bool

	// VerifyDynamicPrivilege is VerifyPrivilege for dynamic privileges.
	// Optional.
	VerifyDynamicPrivilege func(req AuthorizeRequest) bool

	// MaxAuthDataLen is the longest first response (InputAuthString) the plugin
	// is given; a longer one is refused before AuthenticateUser. Optional:
	// 0 means DefaultMaxAuthDataLen.
	MaxAuthDataLen int
}

// DefaultMaxAuthDataLen bounds the first response of a plugin that sets no
// MaxAuthDataLen: enough for a signed token (the sample OAuth plugin caps
// its tokens at 16 KiB too), little enough that no response can hold a
// login for long.
const DefaultMaxAuthDataLen = 16 << 10

// AuthDataLimit is the longest first response p is given.
func (p *AuthPlugin) AuthDataLimit() int {
	if p.MaxAuthDataLen > 0 {
		return p.MaxAuthDataLen
	}
	return DefaultMaxAuthDataLen
}

// ClientPlugin returns the client-side plugin the client must use.
func (p *AuthPlugin) ClientPlugin() string {
	if p.RequiredClientSidePlugin != "" {
		return p.RequiredClientSidePlugin
	}
	return p.Name
}

// Validate reports what makes p unusable: an empty name, one that is not
// lower case, or a missing required function. The optional functions (VerifyPrivilege,
// VerifyDynamicPrivilege, ExplainAuthString, ExplainPassword,
// VerifyPassword) may be nil.
func (p *AuthPlugin) Validate() error {
	if p == nil {
		return errors.New("auth plugin is nil")
	}
	if p.Name == "" {
		return errors.New("auth plugin name cannot be empty")
	}
	if p.Name != strings.ToLower(p.Name) {
		// CREATE USER ... IDENTIFIED WITH lower-cases what it names: an
		// upper-case plugin could never be chosen.
		return fmt.Errorf("auth plugin %q: the name must be lower case, as IDENTIFIED WITH names it: %q", p.Name, strings.ToLower(p.Name))
	}
	missing := func(f string) error { return fmt.Errorf("auth plugin %q: %s is required", p.Name, f) }
	switch {
	case p.AuthenticateUser == nil:
		return missing("AuthenticateUser")
	case p.GenerateAuthString == nil:
		return missing("GenerateAuthString")
	case p.ValidateAuthString == nil:
		return missing("ValidateAuthString")
	}
	return nil
}

// AuthConn lets a plugin talk to the client during the login, for methods
// that need more than the handshake's one response.
type AuthConn interface {
	// WriteAuthMoreData sends data in an AuthMoreData packet (0x01 prefix).
	WriteAuthMoreData(ctx context.Context, data []byte) error
	// ReadPacket reads the client's next packet.
	ReadPacket(ctx context.Context) ([]byte, error)
}

// AuthenticateRequest is one login attempt, as AuthenticateUser sees it.
type AuthenticateRequest struct {
	// User is the user name the client sent (USER()).
	User string
	// AccountHost is the host part of the account the login matched, e.g.
	// "%": the account's pattern, not the client's address (see RemoteAddr).
	AccountHost string
	// StoredAuthString is the account's stored authentication string.
	StoredAuthString string
	// InputAuthString is the client's response for this plugin's client side: a
	// scramble, or the cleartext password or token for mysql_clear_password.
	InputAuthString []byte
	// Salt is the 20-byte nonce sent to the client in the handshake.
	Salt []byte
	// ConnState is the TLS state, nil on a connection without TLS.
	ConnState *tls.ConnectionState
	// SecureTransport is true on TLS and on a Unix socket, where a secret may
	// cross in clear.
	SecureTransport bool
	// RemoteAddr is the client's address.
	RemoteAddr net.Addr
	// AuthConn is for further round trips; it may be nil when the host has
	// none, and a plugin that needs one must then refuse the login.
	AuthConn AuthConn
}

// AuthorizeRequest is one privilege check for a session authenticated by the
// plugin.
type AuthorizeRequest struct {
	// User is the session's login user name.
	User string
	// ClientHost is the host the session connected from (its address or
	// "localhost"), not the account's host pattern.
	ClientHost string
	// DB, Table and Column name the object; empty for a wider level.
	DB     string
	Table  string
	Column string
	// Priv is the static privilege asked for (VerifyPrivilege).
	Priv priv.Mask
	// PrivName is the dynamic privilege asked for (VerifyDynamicPrivilege).
	PrivName string
	// WithGrant is true when the check is for granting the privilege on.
	WithGrant bool
	// ConnState is the session's TLS state, nil without TLS.
	ConnState *tls.ConnectionState
	// ActiveRoles are the roles active in the session.
	ActiveRoles []priv.Account
	// SessionState is what AuthenticateUser returned for this session.
	SessionState any
}

// Reserved is the set of plugin names an extension cannot take: the built-ins
// here, and the names of other servers' plugins, so that an account created
// for one never silently means something else here.
var Reserved = map[string]bool{
	NativePasswordName:              true,
	CachingSHA2PasswordName:         true,
	ClearPasswordName:               true,
	"sha256_password":               true,
	"auth_socket":                   true,
	"mysql_no_login":                true,
	"authentication_ldap_simple":    true,
	"authentication_ldap_sasl":      true,
	"authentication_kerberos":       true,
	"authentication_pam":            true,
	"authentication_windows":        true,
	"authentication_fido":           true,
	"authentication_webauthn":       true,
	"authentication_openid_connect": true,
	"tidb_sm3_password":             true,
	"tidb_auth_token":               true,
	"unix_socket":                   true,
	"ed25519":                       true,
	"client_ed25519":                true,
	"dialog":                        true,
}

// ErrInsecureTransport refuses to take a secret over a connection that is
// neither TLS nor a Unix socket.
var ErrInsecureTransport = errors.New("authentication requires TLS or a Unix socket")

// SessionValidator may be implemented by the state AuthenticateUser returns,
// for sessions that can lapse (a token that expires). Every check of the
// session asks it first; its error is what the client sees, so it should
// say what to do (reconnect with a new token).
type SessionValidator interface {
	ValidateSession() error
}

// SelfChange is a change a session makes to its own account, which MySQL
// allows without any privilege.
type SelfChange string

// The changes a session may make to its own account.
const (
	SelfPassword    SelfChange = "SET PASSWORD"     // SET PASSWORD, ALTER USER CURRENT_USER() IDENTIFIED BY
	SelfDefaultRole SelfChange = "SET DEFAULT ROLE" // SET DEFAULT ROLE ... TO CURRENT_USER()
)

// SelfServiceGate may be implemented by the state AuthenticateUser returns,
// to decide whether the session may change its own account: a session a
// token narrowed should not reach past the token to the account itself. A
// plugin whose state does not implement it allows these changes, as MySQL
// does (so a TiDB plugin refuses nothing it allowed before). The error is
// what the client sees; nil allows.
type SelfServiceGate interface {
	AllowSelfChange(change SelfChange) error
}

// RoleActivator may be implemented by the state AuthenticateUser returns,
// to choose the session's active roles at login (a token's groups). It is
// given the roles granted to the account and its default roles; whatever it
// returns is intersected with the granted ones, so a plugin can never
// activate a role that was not granted.
type RoleActivator interface {
	ActivateRoles(granted, defaults []priv.Account) []priv.Account
}
