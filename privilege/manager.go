package privilege

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Manager makes the privilege decisions over a Store.
type Manager struct {
	store         Store
	plugins       map[string]*authplugin.AuthPlugin
	dynamic       map[string]bool
	defaultPlugin string
	log           *slog.Logger
	now           func() time.Time
	lockout       lockout
	// fence, when set, refuses every statement (SetFence, shared.go).
	fence atomic.Pointer[error]
	// lease, when set, fences from its end on (SetLeaseDeadline).
	lease atomic.Pointer[leaseEnd]
	// MySQL's default_password_lifetime and password_require_current.
	passwordLifetime int
	requireCurrent   bool
	// rsaKey is given to the built-in password plugins (WithRSAKey).
	rsaKey *rsa.PrivateKey
	// decoys are hashes of unknown passwords, by plugin name (decoy.go).
	decoys map[string]string
}

// Option configures a Manager.
type Option func(*Manager) error

// WithPlugins adds auth plugins beside the built-in password plugins. Two
// plugins with one name are an error.
func WithPlugins(ps ...*authplugin.AuthPlugin) Option {
	return func(m *Manager) error {
		for _, p := range ps {
			if err := p.Validate(); err != nil {
				return err
			}
			if m.plugins[p.Name] != nil {
				return fmt.Errorf("auth plugin %q is registered twice", p.Name)
			}
			m.plugins[p.Name] = p
		}
		return nil
	}
}

// WithDynamicPrivileges makes names grantable beside MySQL's own dynamic
// privileges.
func WithDynamicPrivileges(names ...string) Option {
	return func(m *Manager) error {
		for _, n := range names {
			if n == "" {
				return errors.New("dynamic privilege name cannot be empty")
			}
			m.dynamic[strings.ToUpper(n)] = true
		}
		return nil
	}
}

// WithLogger sets where login refusals and their reasons are logged.
func WithLogger(l *slog.Logger) Option {
	return func(m *Manager) error { m.log = l; return nil }
}

// WithClock replaces time.Now, for lockout and password expiry tests.
func WithClock(now func() time.Time) Option {
	return func(m *Manager) error { m.now = now; return nil }
}

// WithDefaultPlugin names the plugin offered to a user with no account
// (default caching_sha2_password), so that the handshake of an unknown user
// looks like that of a real one.
func WithDefaultPlugin(name string) Option {
	return func(m *Manager) error { m.defaultPlugin = name; return nil }
}

// NewManager returns a Manager with the built-in password plugins and
// MySQL's dynamic privileges, plus what opts add.
func NewManager(store Store, opts ...Option) (*Manager, error) {
	if store == nil {
		return nil, errors.New("privilege: nil store")
	}
	m := &Manager{
		store:         store,
		plugins:       map[string]*authplugin.AuthPlugin{},
		dynamic:       map[string]bool{},
		defaultPlugin: authplugin.CachingSHA2PasswordName,
		log:           slog.Default(),
		now:           time.Now,
	}
	m.lockout.init()
	for _, n := range mysqlDynamicPrivileges {
		m.dynamic[n] = true
	}
	for _, o := range opts {
		if err := o(m); err != nil {
			return nil, fmt.Errorf("privilege: %w", err)
		}
	}
	// The built-ins come after the options, which may give them a key.
	if err := WithPlugins(m.builtins()...)(m); err != nil {
		return nil, fmt.Errorf("privilege: %w", err)
	}
	if m.plugins[m.defaultPlugin] == nil {
		return nil, fmt.Errorf("privilege: default plugin %q is not registered", m.defaultPlugin)
	}
	if err := m.makeDecoys(); err != nil {
		return nil, fmt.Errorf("privilege: %w", err)
	}
	return m, nil
}

// mysqlDynamicPrivileges are MySQL 8's own dynamic privileges.
var mysqlDynamicPrivileges = []string{
	"APPLICATION_PASSWORD_ADMIN", "AUDIT_ABORT_EXEMPT", "AUDIT_ADMIN", "AUTHENTICATION_POLICY_ADMIN",
	"BACKUP_ADMIN", "BINLOG_ADMIN", "BINLOG_ENCRYPTION_ADMIN", "CLONE_ADMIN", "CONNECTION_ADMIN",
	"ENCRYPTION_KEY_ADMIN", "FIREWALL_EXEMPT", "FLUSH_OPTIMIZER_COSTS", "FLUSH_PRIVILEGES",
	"FLUSH_STATUS", "FLUSH_TABLES", "FLUSH_USER_RESOURCES", "GROUP_REPLICATION_ADMIN",
	"GROUP_REPLICATION_STREAM", "INNODB_REDO_LOG_ARCHIVE", "INNODB_REDO_LOG_ENABLE",
	"OPTIMIZE_LOCAL_TABLE", "PASSWORDLESS_USER_ADMIN", "PERSIST_RO_VARIABLES_ADMIN",
	"REPLICATION_APPLIER", "REPLICATION_SLAVE_ADMIN", "RESOURCE_GROUP_ADMIN", "RESOURCE_GROUP_USER",
	"ROLE_ADMIN", "SENSITIVE_VARIABLES_OBSERVER", "SERVICE_CONNECTION_ADMIN",
	"SESSION_VARIABLES_ADMIN", "SET_ANY_DEFINER", "ALLOW_NONEXISTENT_DEFINER", "SHOW_ROUTINE",
	"SKIP_QUERY_REWRITE", "SYSTEM_USER", "SYSTEM_VARIABLES_ADMIN", "TABLE_ENCRYPTION_ADMIN",
	"TELEMETRY_LOG_ADMIN", "TRANSACTION_GTID_TAG", "XA_RECOVER_ADMIN",
}

// Plugin returns the plugin registered under name, or nil.
func (m *Manager) Plugin(name string) *authplugin.AuthPlugin { return m.plugins[name] }

// IsDynamicPrivilege reports whether name (any case) can be granted.
func (m *Manager) IsDynamicPrivilege(name string) bool { return m.dynamic[strings.ToUpper(name)] }

// Snapshot returns the store's current snapshot.
func (m *Manager) Snapshot() *Snapshot { return m.store.Snapshot() }

// Update changes the store (which must be an Updater), checking what users
// say: plugins must be loaded, passwords go through GenerateAuthString and
// AS strings through ValidateAuthString, dynamic privileges must be known.
func (m *Manager) Update(fn func(tx *Tx) error) error {
	u, ok := m.store.(Updater)
	if !ok {
		return errors.New("privilege: the store is read-only")
	}
	return u.Update(func(tx *Tx) error {
		tx.plugin, tx.isDynamic = m.Plugin, m.IsDynamicPrivilege
		tx.now = m.now
		return m.logRefusal(fn(tx))
	})
}

// ClientPluginFor returns the client-side plugin a login as user from addr
// must use; tls says whether the connection has TLS. A user with no account,
// or whose plugin is not loaded, gets the default plugin's, so the handshake
// does not tell whether an account exists; so does an account whose plugin
// takes a cleartext secret on a connection that is neither TLS nor a Unix
// socket, so that the secret is never asked for there (the login then fails
// with the same 1045).
func (m *Manager) ClientPluginFor(user string, addr net.Addr, tls bool) string {
	if e := m.store.Snapshot().match(user, clientOf(addr)); e != nil {
		if p := m.plugins[e.user.Plugin]; p != nil {
			_, unix := addr.(*net.UnixAddr)
			if p.ClientPlugin() != authplugin.ClearPasswordName || tls || unix {
				return p.ClientPlugin()
			}
		}
	}
	return m.plugins[m.defaultPlugin].ClientPlugin()
}

// LoginRequest is what the host knows of a login attempt.
type LoginRequest struct {
	User       string
	RemoteAddr net.Addr // *net.TCPAddr or *net.UnixAddr
	ConnState  *tls.ConnectionState
	// AuthData is the client's response for the account's client plugin.
	AuthData []byte
	Salt     []byte
	AuthConn authplugin.AuthConn
	// ClientPlugin is the client plugin AuthData was made with; when set, a
	// response for another plugin than the account's is refused.
	ClientPlugin string
}

// ConnectionVerification authenticates a login and returns its session.
//
// Every refusal is the same 1045 to the client, whatever the reason (unknown
// user, wrong credentials, unknown plugin, locked account, cleartext without
// TLS); the reason goes to the log. A user name longer than
// mysqlerr.MaxUserNameLen characters, or a response longer than the
// plugin's AuthDataLimit, is refused before anything is hashed, and no
// error text or log line repeats more than mysqlerr.MaxUserNameLen
// characters of the name. A login refused before its plugin is called (no
// such account, locked, plugin not loaded, ...) first goes through the
// exchange of the plugin the client answered for against a decoy (decoy.go),
// so that it cannot be told from a wrong password. A plugin's error counts
// as a failed login for FAILED_LOGIN_ATTEMPTS.
func (m *Manager) ConnectionVerification(ctx context.Context, req LoginRequest) (*Session, error) {
	c := clientOf(req.RemoteAddr)
	_, unix := req.RemoteAddr.(*net.UnixAddr)
	secure := req.ConnState != nil || unix
	deny := func(kind LoginFailure, plugin, reason string, err error) (*Session, error) {
		m.log.LogAttrs(ctx, slog.LevelWarn, "login refused",
			slog.String("user", mysqlerr.BoundedName(req.User)), slog.String("client", c.host()),
			slog.String("reason", reason), slog.Any("error", err))
		if err != nil {
			reason += ": " + err.Error()
		}
		return nil, &LoginError{Reason: reason, Kind: kind, Plugin: plugin, public: mysqlerr.LoginDenied(req.User, c.host(), len(req.AuthData) > 0)}
	}
	if utf8.RuneCountInString(req.User) > mysqlerr.MaxUserNameLen {
		// No account has such a name: refusing at once tells nothing.
		return deny(LoginNoAccount, "", fmt.Sprintf("user name longer than %d characters", mysqlerr.MaxUserNameLen), nil)
	}

	now := m.now()
	snap := m.store.Snapshot()
	e := snap.match(req.User, c)
	p, kind, reason, err := m.admit(e, req, secure, now)
	if kind != "" {
		m.decoy(ctx, req, m.answeredFor(req, e), secure)
		plugin := ""
		if e != nil {
			plugin = e.user.Plugin
		}
		return deny(kind, plugin, reason, err)
	}
	u := e.user
	if len(req.AuthData) > p.AuthDataLimit() {
		return deny(LoginResponseTooLong, p.Name, fmt.Sprintf("response of %d bytes, over the plugin's limit of %d", len(req.AuthData), p.AuthDataLimit()), nil)
	}
	if err := ctx.Err(); err != nil {
		return deny(LoginDeadline, p.Name, "login deadline passed", err)
	}
	state, err := m.authenticate(ctx, p, req.pluginRequest(u.Account.Host, u.AuthString, secure))
	if err != nil {
		m.lockout.failed(u, now)
		if _, ok := err.(*panicError); ok {
			return deny(LoginPluginPanic, p.Name, "auth plugin panicked", nil) // logged with its stack
		}
		return deny(LoginBadCredentials, p.Name, "authentication failed", err)
	}
	m.lockout.succeeded(u)

	s := &Session{
		m:         m,
		user:      req.User,
		host:      c.host(),
		account:   u.Account,
		accountID: u.ID,
		plugin:    p,
		state:     state,
		connState: req.ConnState,
	}
	s.validator, _ = state.(authplugin.SessionValidator)
	if m.passwordExpired(u, now) {
		// MySQL's sandbox mode: the login succeeds, and the session may
		// only change its password (Session.PasswordExpired).
		s.expiredRow = u
		s.sandbox.Store(true)
		m.log.LogAttrs(ctx, slog.LevelInfo, "login with an expired password: sandbox mode",
			slog.String("user", mysqlerr.BoundedName(req.User)), slog.String("client", c.host()), slog.String("account", u.Account.String()))
	}
	roles := e.defaultRoles
	if ra, ok := state.(authplugin.RoleActivator); ok {
		// A panic refuses the login: the default roles may be more than
		// the plugin meant the session to have.
		roles, err = callPlugin(m.log, "ActivateRoles", p.Name, func() []priv.Account {
			return ra.ActivateRoles(sortedKeys(e.roles), slices.Clone(e.defaultRoles))
		})
		if err != nil {
			return deny(LoginPluginPanic, p.Name, "auth plugin panicked", nil)
		}
	}
	s.loginIdent.roles = grantedOnly(e, roles)
	s.ident.Store(&s.loginIdent)
	if m.log.Enabled(ctx, slog.LevelDebug) { // the attributes cost more than the check
		m.log.LogAttrs(ctx, slog.LevelDebug, "login accepted",
			slog.String("user", req.User), slog.String("client", c.host()),
			slog.String("account", u.Account.String()), slog.String("plugin", p.Name))
	}
	return s, nil
}

// admit decides what is refused before the account's plugin is called,
// returning the plugin, or why not (kind, and reason for the log).
func (m *Manager) admit(e *entry, req LoginRequest, secure bool, now time.Time) (_ *authplugin.AuthPlugin, kind LoginFailure, reason string, _ error) {
	if e == nil {
		return nil, LoginNoAccount, "no such account", nil
	}
	u := e.user
	if u.Locked {
		return nil, LoginAccountLocked, "account is locked", nil
	}
	if until, blocked := m.lockout.blocked(u, now); blocked {
		end := "until unlocked"
		if u.PasswordLockDays > 0 {
			end = "until " + until.Format(time.RFC3339)
		}
		return nil, LoginAccountBlocked, fmt.Sprintf("account blocked %s after %d consecutive failed logins", end, u.FailedLoginAttempts), nil
	}
	if u.RequireSecureTransport && req.ConnState == nil {
		return nil, LoginTLSRequired, "account requires TLS", nil
	}
	p := m.plugins[u.Plugin]
	if p == nil {
		return nil, LoginPluginNotLoaded, fmt.Sprintf("plugin %q is not loaded", u.Plugin), nil
	}
	if p.ClientPlugin() == authplugin.ClearPasswordName && !secure {
		return nil, LoginInsecureTransport, "cleartext credentials over a connection without TLS", authplugin.ErrInsecureTransport
	}
	if req.ClientPlugin != "" && req.ClientPlugin != p.ClientPlugin() {
		return nil, LoginWrongClientPlugin, fmt.Sprintf("client answered for %s, the account needs %s", req.ClientPlugin, p.ClientPlugin()), nil
	}
	return p, "", "", nil
}

// pluginRequest is what the plugin is asked to check for req: the stored
// string of the account matched (host is its host pattern), or a decoy's.
func (req LoginRequest) pluginRequest(host, stored string, secure bool) authplugin.AuthenticateRequest {
	return authplugin.AuthenticateRequest{
		User:             req.User,
		AccountHost:      host,
		StoredAuthString: stored,
		InputAuthString:  req.AuthData,
		Salt:             req.Salt,
		ConnState:        req.ConnState,
		SecureTransport:  secure,
		RemoteAddr:       req.RemoteAddr,
		AuthConn:         req.AuthConn,
	}
}

// LoginError is a refused login. Its text, and the error it unwraps to, is
// the one 1045 every refusal shows the client; Reason says why, for the log
// and audit only, and Kind and Plugin say it in words that can be counted.
type LoginError struct {
	Reason string
	Kind   LoginFailure
	// Plugin is the matched account's plugin as stored (it may not be
	// loaded); "" when no account was matched or the login was refused
	// before.
	Plugin string
	public *mysqlerr.Error
}

// LoginFailure is why a login was refused, from a small fixed set: a
// metric's label, where Reason, which may quote the client, is for reading.
type LoginFailure string

// The kinds of refused logins.
const (
	LoginNoAccount         LoginFailure = "no_account" // no account matches the name and host
	LoginAccountLocked     LoginFailure = "account_locked"
	LoginAccountBlocked    LoginFailure = "account_blocked" // FAILED_LOGIN_ATTEMPTS
	LoginTLSRequired       LoginFailure = "tls_required"
	LoginPluginNotLoaded   LoginFailure = "plugin_not_loaded"
	LoginInsecureTransport LoginFailure = "insecure_transport" // a cleartext secret without TLS
	LoginWrongClientPlugin LoginFailure = "wrong_client_plugin"
	LoginResponseTooLong   LoginFailure = "response_too_long"
	LoginDeadline          LoginFailure = "deadline"
	LoginBadCredentials    LoginFailure = "bad_credentials" // the plugin said no
	LoginPluginPanic       LoginFailure = "plugin_panic"
	LoginThrottled         LoginFailure = "throttled" // LoginThrottle's delay ran past the deadline
)

func (e *LoginError) Error() string { return e.public.Error() }
func (e *LoginError) Unwrap() error { return e.public }

// authenticate calls the plugin, turning a panic on hostile input into a
// refused login: a *panicError, logged here with its stack.
func (m *Manager) authenticate(ctx context.Context, p *authplugin.AuthPlugin, req authplugin.AuthenticateRequest) (state any, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe := pluginPanic(p.Name, "AuthenticateUser", r, string(req.InputAuthString))
			logPanic(ctx, m.log, pe)
			state, err = nil, pe
		}
	}()
	return p.AuthenticateUser(ctx, req)
}

func grantedOnly(e *entry, roles []priv.Account) []priv.Account {
	var out []priv.Account
	for _, r := range roles {
		if _, ok := e.roles[r]; ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// RequestVerificationWithUser checks a request on behalf of account a, which
// is not a session's user (a view's definer, the target of ALTER USER): the
// stored grants of a with its default roles decide; no plugin is asked.
func (m *Manager) RequestVerificationWithUser(a priv.Account, db, table, column string, p priv.Mask) error {
	db, table, column = strings.ToLower(db), strings.ToLower(table), strings.ToLower(column)
	if m.store.Snapshot().withDefaults(a).allows(db, table, column, p) {
		return nil
	}
	return denied(a.User, a.Host, db, table, column, p)
}

// HasColumnGrantsWithUser reports whether account a's stored grants, with
// its default roles, include a column-level grant: whether a request that
// fails at table level may still be met column by column.
func (m *Manager) HasColumnGrantsWithUser(a priv.Account) bool {
	return len(m.store.Snapshot().withDefaults(a).column) > 0
}

// HasColumnPrivilegeWithUser is Session.HasColumnPrivilege for account a's
// stored grants, with its default roles.
func (m *Manager) HasColumnPrivilegeWithUser(a priv.Account, db, table string, p priv.Mask) bool {
	return m.store.Snapshot().withDefaults(a).anyColumnAllows(strings.ToLower(db), strings.ToLower(table), p)
}

// RequestDynamicVerificationWithUser is RequestVerificationWithUser for a
// dynamic privilege.
func (m *Manager) RequestDynamicVerificationWithUser(a priv.Account, name string, withGrant bool) error {
	name = strings.ToUpper(name)
	if m.dynamic[name] && m.store.Snapshot().withDefaults(a).allowsDynamic(name, withGrant) {
		return nil
	}
	return mysqlerr.SpecificAccessDenied(name)
}

// denied is the MySQL error for a refused request, by the level it named.
func denied(user, host, db, table, column string, p priv.Mask) error {
	switch {
	case column != "":
		return mysqlerr.ColumnAccessDenied(p.Name(), user, host, column, table)
	case table != "":
		return mysqlerr.TableAccessDenied(p.Name(), user, host, table)
	case db != "":
		return mysqlerr.DBAccessDenied(user, host, db)
	}
	return mysqlerr.SpecificAccessDenied(p.Names()...)
}

// IsMySQLDynamicPrivilege reports whether name (any case) is one of MySQL's
// own dynamic privileges, which extensions cannot register again.
func IsMySQLDynamicPrivilege(name string) bool {
	for _, n := range mysqlDynamicPrivileges {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// DynamicPrivileges lists every grantable dynamic privilege, sorted.
func (m *Manager) DynamicPrivileges() []string {
	return slices.Sorted(maps.Keys(m.dynamic))
}
