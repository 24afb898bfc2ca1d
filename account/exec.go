// Package account runs MySQL's account statements (CREATE/ALTER/DROP/RENAME
// USER, CREATE/DROP ROLE, GRANT, REVOKE, roles, PROXY, SET PASSWORD, SET
// [DEFAULT] ROLE, SHOW GRANTS, SHOW CREATE USER, FLUSH PRIVILEGES) against
// authplug's store, for any host: it reads the statement with TiDB's
// parser, asks the session's grantor rules (privilege.Session: MayGrant,
// GuardSystemAccount, MayGrantProxy, ...) and applies the change in one
// transaction. A host hands it the statements IsStatement picks out, and
// logs only Redact's text of them.
package account

import (
	"context"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/auth"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Executor runs account statements against a manager's store.
type Executor struct {
	m *privilege.Manager
}

// New returns an Executor over m.
func New(m *privilege.Manager) *Executor { return &Executor{m: m} }

// Result is what a statement returns: nothing (OK) or rows of text.
type Result struct {
	Columns []string
	Rows    [][]string
}

// Exec runs one account statement for sess; currentDB is the session's
// database, for GRANT ... ON t. A Result holding a generated password
// (IDENTIFIED BY RANDOM PASSWORD) is for the client only: a host must not
// log it.
func (e *Executor) Exec(ctx context.Context, sess *privilege.Session, currentDB, query string) (*Result, error) {
	st, err := Parse(query)
	if err != nil {
		return nil, err
	}
	x := &run{e: e, sess: sess, db: currentDB, st: st}
	if err := x.sandboxed(); err != nil {
		return nil, err
	}
	return x.exec(ctx)
}

// run is one statement being executed.
type run struct {
	e    *Executor
	sess *privilege.Session
	db   string
	st   *Statement
	// generated passwords of RANDOM PASSWORD, in statement order
	generated [][]string
}

func (x *run) exec(ctx context.Context) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, roleGrant := x.st.Node.(*ast.GrantRoleStmt); x.st.WithAdmin && !roleGrant {
		// WITH ADMIN OPTION belongs to role grants only.
		return nil, syntaxError(x.st.Node.Text())
	}
	switch n := x.st.Node.(type) {
	case *ast.CreateUserStmt:
		return x.done(x.createUser(n))
	case *ast.AlterUserStmt:
		return x.done(x.alterUser(n))
	case *ast.DropUserStmt:
		return nil, x.dropUser(n)
	case *ast.RenameUserStmt:
		return nil, x.renameUser(n)
	case *ast.SetPwdStmt:
		return x.done(x.setPassword(n))
	case *ast.GrantStmt:
		if !tableObject(n.ObjectType) {
			return nil, notSupported("GRANT ON FUNCTION and PROCEDURE")
		}
		for _, u := range n.Users {
			if u.AuthOpt != nil {
				// MySQL 8 removed GRANT ... IDENTIFIED BY: accounts are
				// created with CREATE USER.
				return nil, syntaxError(n.Text())
			}
		}
		return nil, x.grant(n.Privs, n.Level, userIdentities(n.Users), n.WithGrant, false)
	case *ast.RevokeStmt:
		if !tableObject(n.ObjectType) {
			return nil, notSupported("REVOKE ON FUNCTION and PROCEDURE")
		}
		return nil, x.grant(n.Privs, n.Level, userIdentities(n.Users), false, true)
	case *ast.GrantRoleStmt:
		return nil, x.roles(n.Roles, n.Users, false)
	case *ast.RevokeRoleStmt:
		return nil, x.roles(n.Roles, n.Users, true)
	case *ast.GrantProxyStmt:
		return nil, x.proxy(n, x.st.RevokeProxy)
	case *ast.SetRoleStmt:
		return nil, x.setRole(n)
	case *ast.SetDefaultRoleStmt:
		return nil, x.setDefaultRole(n)
	case *ast.ShowStmt:
		switch n.Tp {
		case ast.ShowGrants:
			return x.showGrants(n)
		case ast.ShowCreateUser:
			return x.showCreateUser(n)
		}
	case *ast.FlushStmt:
		// Changes apply at once; FLUSH PRIVILEGES has nothing to do, but
		// still needs RELOAD as in MySQL.
		if n.Tp == ast.FlushPrivileges {
			return nil, x.sess.RequestVerification("", "", "", priv.Reload)
		}
	}
	return nil, notSupported(strings.ToUpper(strings.SplitN(strings.TrimSpace(x.st.Node.Text()), " ", 2)[0]))
}

// done returns the generated passwords, if the statement made any.
func (x *run) done(err error) (*Result, error) {
	if err != nil || len(x.generated) == 0 {
		return nil, err
	}
	return &Result{Columns: []string{"user", "host", "generated password", "auth_factor"}, Rows: x.generated}, nil
}

// tableObject: a GRANT or REVOKE names no object type or TABLE; routine
// grants are not supported.
func tableObject(t ast.ObjectTypeType) bool {
	return t == ast.ObjectTypeNone || t == ast.ObjectTypeTable || t == 0
}

func userIdentities(us []*ast.UserSpec) []*auth.UserIdentity {
	out := make([]*auth.UserIdentity, len(us))
	for i, u := range us {
		out[i] = u.User
	}
	return out
}

func (x *run) account(u *auth.UserIdentity) priv.Account {
	if u == nil || u.CurrentUser {
		return x.sess.Account()
	}
	return priv.Account{User: u.Username, Host: u.Hostname}
}

func role(r *auth.RoleIdentity) priv.Account { return priv.Account{User: r.Username, Host: r.Hostname} }

func roles(rs []*auth.RoleIdentity) []priv.Account {
	out := make([]priv.Account, len(rs))
	for i, r := range rs {
		out[i] = role(r)
	}
	return out
}

// update applies fn as one change of the store.
func (x *run) update(fn func(tx *privilege.Tx) error) error { return x.e.m.Update(fn) }

// sandboxed refuses, in expired-password mode, every statement but setting
// one's own password (MySQL's 1820).
func (x *run) sandboxed() error {
	err := x.sess.PasswordExpired()
	if err == nil {
		return nil
	}
	switch n := x.st.Node.(type) {
	case *ast.SetPwdStmt:
		if n.User == nil || n.User.CurrentUser || x.sess.IsOwnAccount(x.account(n.User)) {
			return nil
		}
	case *ast.AlterUserStmt:
		if n.CurrentAuth != nil && len(n.Specs) == 0 && !acting(x.sess) {
			return nil // ALTER USER USER() IDENTIFIED BY ...
		}
		if len(n.Specs) == 1 && n.Specs[0].AuthOpt != nil && x.sess.IsOwnAccount(x.account(n.Specs[0].User)) {
			return nil
		}
	}
	return err
}

func acting(s *privilege.Session) bool {
	_, ok := s.Impersonating()
	return ok
}

// newCredential is an IDENTIFIED clause made ready before the statement's
// transaction: the plugin's work (hashing a password) is done outside the
// store's lock, so a slow hash stalls no other account change.
type newCredential struct {
	cred      privilege.Credential
	generated string // the password RANDOM PASSWORD made, "" otherwise
	keeps     bool   // the clause names no plugin: the account's is kept
}

// prepare readies opt for account a; keep is a's current plugin, used when
// the clause names none (ALTER USER ... IDENTIFIED BY keeps the plugin).
func (x *run) prepare(opt *ast.AuthOption, keep string) (newCredential, error) {
	nc := newCredential{keeps: opt != nil && opt.AuthPlugin == ""}
	plugin := authplugin.CachingSHA2PasswordName
	switch {
	case opt != nil && opt.AuthPlugin != "":
		plugin = strings.ToLower(opt.AuthPlugin)
	case keep != "":
		plugin = keep
	}
	var c privilege.Credential
	switch {
	case opt == nil:
		c = privilege.IdentifiedAs(plugin, "")
	case opt.ByAuthString && x.st.IsRandom(opt.AuthString):
		pw, err := randomPassword()
		if err != nil {
			return nc, err
		}
		nc.generated = pw
		c = privilege.IdentifiedBy(plugin, pw)
	case opt.ByAuthString:
		c = privilege.IdentifiedBy(plugin, opt.AuthString)
	case opt.ByHashString:
		c = privilege.IdentifiedAs(plugin, opt.HashString)
	default:
		c = privilege.IdentifiedAs(plugin, "")
	}
	var err error
	nc.cred, err = x.e.m.Prepare(c)
	return nc, err
}

// store sets a's credential to nc in tx, preparing the clause again (under
// the lock, a rare path) if a's plugin changed since nc was prepared, and
// records a generated password for the result. With create, a is a new
// account made with opts.
// create makes a new account with opts; otherwise a's credential changes.
func (x *run) store(tx *privilege.Tx, a priv.Account, opt *ast.AuthOption, nc newCredential, create bool, opts ...privilege.UserOption) error {
	if u, ok := tx.User(a); ok && nc.keeps && u.Plugin != nc.cred.Plugin {
		var err error
		if nc, err = x.prepare(opt, u.Plugin); err != nil {
			return err
		}
	}
	var err error
	if create {
		err = tx.CreateUser(a, nc.cred, opts...)
	} else {
		err = tx.SetCredential(a, nc.cred)
	}
	if err == nil && nc.generated != "" {
		x.generated = append(x.generated, []string{a.User, a.Host, nc.generated, "1"})
	}
	return err
}

// userOptions reads the account attributes of CREATE and ALTER USER.
func (x *run) userOptions(tls []*ast.AuthTokenOrTLSOption, res []*ast.ResourceOption, pl []*ast.PasswordOrLockOption) ([]privilege.UserOption, error) {
	var opts []privilege.UserOption
	for _, r := range res {
		if r.Count < 0 || r.Count > 1<<32-1 {
			return nil, syntaxError(x.st.Node.Text())
		}
		switch {
		case r.Type == ast.MaxUserConnections:
			opts = append(opts, privilege.MaxUserConnections(int(r.Count)))
		case r.Count != 0:
			// MAX_QUERIES_PER_HOUR and the others; 0, their default, is
			// no limit and accepted.
			return nil, notSupported("MAX_QUERIES_PER_HOUR, MAX_UPDATES_PER_HOUR and MAX_CONNECTIONS_PER_HOUR")
		}
	}
	for _, t := range tls {
		switch t.Type {
		case ast.TlsNone:
			opts = append(opts, privilege.RequireSSL(false))
		case ast.Ssl:
			opts = append(opts, privilege.RequireSSL(true))
		default:
			return nil, notSupported("REQUIRE " + t.Type.String())
		}
	}
	// Each of FAILED_LOGIN_ATTEMPTS and PASSWORD_LOCK_TIME changes only
	// itself: ALTER USER ... PASSWORD_LOCK_TIME 2 keeps the attempts.
	var attempts, days *int
	for _, o := range pl {
		n := int(o.Count)
		switch o.Type {
		case ast.Lock:
			opts = append(opts, privilege.AccountLock(true))
		case ast.Unlock:
			opts = append(opts, privilege.AccountLock(false))
		case ast.FailedLoginAttempts:
			attempts = &n
		case ast.PasswordLockTime:
			days = &n
		case ast.PasswordLockTimeUnbounded:
			n = -1
			days = &n
		case ast.PasswordExpire:
			opts = append(opts, privilege.PasswordExpireNow())
		case ast.PasswordExpireDefault:
			opts = append(opts, privilege.PasswordLifetime(0))
		case ast.PasswordExpireNever:
			opts = append(opts, privilege.PasswordLifetime(-1))
		case ast.PasswordExpireInterval:
			if o.Count < 1 || o.Count > 65535 {
				return nil, mysqlerr.Errorf(mysqlerr.ErWrongValue, "Incorrect DAY value: '%d'", o.Count)
			}
			opts = append(opts, privilege.PasswordLifetime(n))
		case ast.PasswordHistoryDefault, ast.PasswordReuseDefault:
			// authplug keeps no password history: the defaults (none) are
			// all it has, so naming them changes nothing.
		case ast.PasswordRequireCurrentDefault:
			opts = append(opts, privilege.PasswordRequireCurrent(privilege.RequireCurrentDefault))
		default:
			return nil, notSupported("PASSWORD HISTORY and PASSWORD REUSE INTERVAL")
		}
	}
	switch x.st.RequireCurrent {
	case RequireYes:
		opts = append(opts, privilege.PasswordRequireCurrent(privilege.RequireCurrentYes))
	case RequireDefault:
		opts = append(opts, privilege.PasswordRequireCurrent(privilege.RequireCurrentDefault))
	case RequireOptional:
		opts = append(opts, privilege.PasswordRequireCurrent(privilege.RequireCurrentOptional))
	}
	if attempts != nil || days != nil {
		opts = append(opts, func(u *privilege.User) {
			if attempts != nil {
				u.FailedLoginAttempts = *attempts
			}
			if days != nil {
				u.PasswordLockDays = *days
			}
		})
	}
	return opts, nil
}
