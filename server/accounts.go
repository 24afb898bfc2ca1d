package server

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/auth"
	tidbmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Account statements are parsed with TiDB's MySQL parser, which knows the
// whole MySQL 8 account grammar (ACCOUNT LOCK, GRANT PROXY, quoted SET ROLE,
// column privileges) that the engine's parser lacks, and executed against
// authplug's store: the one source of truth for accounts and grants.

// isAccountStatement reports whether query starts with an account
// statement, looking past whitespace and comments.
func isAccountStatement(query string) bool { return statementKind(query) == kindAccount }

// Kinds of statement the host runs itself rather than the engine.
type stmtKind uint8

const (
	kindEngine stmtKind = iota
	kindAccount
	kindImpersonation // EXECUTE AS, REVERT
)

// statementKind reads the first words of query once: it is on every
// statement's path.
func statementKind(query string) stmtKind {
	w := firstWords(query, 3)
	if w[0] == "REVERT" || w[0] == "EXECUTE" && w[1] == "AS" {
		return kindImpersonation
	}
	if accountWords(w) {
		return kindAccount
	}
	return kindEngine
}

func accountWords(w []string) bool {
	switch w[0] {
	case "GRANT", "REVOKE":
		return true
	case "CREATE", "DROP":
		return w[1] == "USER" || w[1] == "ROLE"
	case "ALTER", "RENAME":
		return w[1] == "USER"
	case "SET":
		return w[1] == "ROLE" || w[1] == "PASSWORD" || (w[1] == "DEFAULT" && w[2] == "ROLE")
	case "SHOW":
		return w[1] == "GRANTS"
	case "FLUSH":
		return w[1] == "PRIVILEGES"
	}
	return false
}

// firstWords returns the first n words of a statement, upper case, skipping
// comments; missing words are "".
func firstWords(q string, n int) []string {
	out := make([]string, n)
	for i := 0; i < n; i++ {
		for {
			q = strings.TrimLeft(q, " \t\r\n(")
			switch {
			case strings.HasPrefix(q, "/*"):
				end := strings.Index(q, "*/")
				if end < 0 {
					return out
				}
				q = q[end+2:]
				continue
			case strings.HasPrefix(q, "--") || strings.HasPrefix(q, "#"):
				end := strings.IndexByte(q, '\n')
				if end < 0 {
					return out
				}
				q = q[end+1:]
				continue
			}
			break
		}
		end := strings.IndexFunc(q, func(r rune) bool {
			return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		})
		if end < 0 {
			end = len(q)
		}
		if end == 0 {
			return out
		}
		out[i], q = strings.ToUpper(q[:end]), q[end:]
	}
	return out
}

// revokeProxy matches REVOKE PROXY, which TiDB's grammar lacks; it is read
// with the GRANT PROXY grammar, so the accounts still come from the parser.
var revokeProxy = regexp.MustCompile(`(?is)^\s*REVOKE\s+PROXY\s+ON\s+(.+)\s+FROM\s+(.+?)\s*;?\s*$`)

type revokeProxyStmt struct{ *ast.GrantProxyStmt }

func parseAccountStatement(query string) (ast.StmtNode, error) {
	p := parser.New()
	if m := revokeProxy.FindStringSubmatch(query); m != nil {
		stmt, err := p.ParseOneStmt("GRANT PROXY ON "+m[1]+" TO "+m[2], "", "")
		if g, ok := stmt.(*ast.GrantProxyStmt); ok && err == nil && !g.WithGrant {
			return revokeProxyStmt{g}, nil
		}
		return nil, syntaxError(query)
	}
	stmts, _, err := p.Parse(query, "", "")
	if err != nil || len(stmts) != 1 {
		return nil, syntaxError(query)
	}
	return stmts[0], nil
}

func syntaxError(query string) error {
	query = redact(query)
	if len(query) > 80 {
		query = query[:80]
	}
	return mysqlerr.New(mysqlerr.ErSyntax, "42000", "You have an error in your SQL syntax near '%s'", query)
}

func notSupported(what string) error {
	return mysqlerr.New(1235, "42000", "This version of authplug doesn't yet support '%s'", what)
}

var okResult = &sqltypes.Result{}

// execAccount runs one account statement for sess. It returns the result,
// and the statement's text with passwords redacted, for audit.
func (s *Server) execAccount(_ context.Context, sess *privilege.Session, currentDB, query string) (*sqltypes.Result, string, error) {
	stmt, err := parseAccountStatement(query)
	if err != nil {
		return nil, "", err
	}
	x := &accountExec{s: s, sess: sess, db: currentDB}
	res, err := x.run(stmt)
	return res, redact(query), err
}

// secretLiteral finds the password literals of account statements:
// IDENTIFIED ... BY '...' and SET PASSWORD ... = '...'.
var secretLiteral = regexp.MustCompile(`(?i)(\bBY\s+|\bPASSWORD\b[^=]*=\s*)('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")`)

// redactedWhole stands for a statement that may hold a secret and could
// not be parsed to say where.
const redactedWhole = "<statement redacted: it could not be parsed and may hold a password>"

// redact is a statement's text for logs, audit lines and error texts, with
// no password in it. The passwords are blanked where the client wrote
// them, keeping the statement readable; then the parser, not the pattern,
// decides: the blanked text is parsed again, and if any password of the
// statement (IDENTIFIED BY, SET PASSWORD, in whatever spelling: comments,
// version comments, PASSWORD('x')) is still there, the parser's own
// secret-free rendering is used instead. A statement that cannot be parsed
// and mentions IDENTIFIED or PASSWORD is replaced whole, and so is a
// PREPARE whose text does (it may prepare an account statement).
func redact(query string) string {
	if _, stmt, ok, err := parseExecuteAs(query); ok && err == nil && stmt != "" {
		if i := strings.LastIndex(query, stmt); i >= 0 {
			return query[:i] + redact(stmt)
		}
		return redactedWhole
	}
	mayHoldSecret := containsFold(query, "identified") || containsFold(query, "password")
	p := parser.New()
	stmts, _, err := p.Parse(query, "", "")
	if err != nil || len(stmts) != 1 {
		if mayHoldSecret {
			return redactedWhole
		}
		return query
	}
	switch n := stmts[0].(type) {
	case *ast.PrepareStmt:
		if mayHoldSecret {
			return redactedWhole
		}
		return query
	case ast.SensitiveStmtNode:
		blanked := secretLiteral.ReplaceAllString(query, "${1}'<redacted>'")
		again, _, err := p.Parse(blanked, "", "")
		if err != nil || len(again) != 1 || hasSecret(again[0]) {
			return n.SecureText()
		}
		return blanked
	}
	return query
}

// hasSecret reports whether a parsed account statement still carries a
// password other than the blank redact puts in.
func hasSecret(n ast.StmtNode) bool {
	const blank = "<redacted>"
	auth := func(o *ast.AuthOption) bool { return o != nil && o.ByAuthString && o.AuthString != blank }
	switch s := n.(type) {
	case *ast.CreateUserStmt:
		for _, u := range s.Specs {
			if auth(u.AuthOpt) {
				return true
			}
		}
	case *ast.AlterUserStmt:
		for _, u := range s.Specs {
			if auth(u.AuthOpt) {
				return true
			}
		}
	case *ast.SetPwdStmt:
		return s.Password != blank
	case *ast.GrantStmt:
		for _, u := range s.Users {
			if auth(u.AuthOpt) {
				return true
			}
		}
	}
	return false
}

type accountExec struct {
	s    *Server
	sess *privilege.Session
	db   string
}

func (x *accountExec) run(stmt ast.StmtNode) (*sqltypes.Result, error) {
	switch st := stmt.(type) {
	case *ast.CreateUserStmt:
		return okResult, x.createUser(st)
	case *ast.AlterUserStmt:
		return okResult, x.alterUser(st)
	case *ast.DropUserStmt:
		return okResult, x.dropUser(st)
	case *ast.SetPwdStmt:
		return okResult, x.setPassword(st)
	case *ast.GrantStmt:
		return okResult, x.grant(st.Privs, st.Level, st.Users, st.WithGrant, false)
	case *ast.RevokeStmt:
		return okResult, x.grant(st.Privs, st.Level, st.Users, false, true)
	case *ast.GrantRoleStmt:
		return okResult, x.roles(st.Roles, st.Users, false)
	case *ast.RevokeRoleStmt:
		return okResult, x.roles(st.Roles, st.Users, true)
	case *ast.GrantProxyStmt:
		return okResult, x.proxy(st, false)
	case revokeProxyStmt:
		return okResult, x.proxy(st.GrantProxyStmt, true)
	case *ast.SetRoleStmt:
		return okResult, x.setRole(st)
	case *ast.SetDefaultRoleStmt:
		return okResult, x.setDefaultRole(st)
	case *ast.ShowStmt:
		if st.Tp == ast.ShowGrants {
			return x.showGrants(st)
		}
	case *ast.FlushStmt:
		// Changes apply at once; FLUSH PRIVILEGES has nothing to do, but
		// still needs RELOAD as in MySQL.
		return okResult, x.sess.RequestVerification("", "", "", priv.Reload)
	case *ast.RenameUserStmt:
		return nil, notSupported("RENAME USER")
	}
	return nil, notSupported(strings.SplitN(stmt.Text(), " ", 3)[0])
}

func (x *accountExec) account(u *auth.UserIdentity) priv.Account {
	if u.CurrentUser {
		return x.sess.Account()
	}
	return priv.Account{User: u.Username, Host: u.Hostname}
}

// isSelf reports whether a is the session's own account, for the
// statements one may run on oneself without privileges (a new password,
// one's default roles). Never while impersonating: acting as an account is
// not owning it.
func (x *accountExec) isSelf(a priv.Account) bool {
	_, acting := x.sess.Impersonating()
	return !acting && a == x.sess.AuthenticatedAccount()
}

func role(r *auth.RoleIdentity) priv.Account { return priv.Account{User: r.Username, Host: r.Hostname} }

// needCreateUser is the privilege every account statement on another
// account needs.
func (x *accountExec) needCreateUser() error {
	return x.sess.RequestVerification("", "", "", priv.CreateUser)
}

// protectSystemUser: an account holding SYSTEM_USER can only be changed by
// a session that holds it too (MySQL 8). The target's privileges are
// stored-only: its plugin is never asked.
func (x *accountExec) protectSystemUser(target priv.Account) error {
	if x.s.mgr.RequestDynamicVerificationWithUser(target, "SYSTEM_USER", false) == nil {
		return x.sess.RequestDynamicVerification("SYSTEM_USER", false)
	}
	return nil
}

func (x *accountExec) credential(opt *ast.AuthOption) privilege.Credential {
	if opt == nil {
		return privilege.IdentifiedAs(authplugin.CachingSHA2PasswordName, "")
	}
	plugin := strings.ToLower(opt.AuthPlugin)
	if plugin == "" {
		plugin = authplugin.CachingSHA2PasswordName
	}
	switch {
	case opt.ByAuthString:
		return privilege.IdentifiedBy(plugin, opt.AuthString)
	case opt.ByHashString:
		return privilege.IdentifiedAs(plugin, opt.HashString)
	}
	return privilege.IdentifiedAs(plugin, "")
}

func userOptions(tls []*ast.AuthTokenOrTLSOption, pl []*ast.PasswordOrLockOption) ([]privilege.UserOption, error) {
	var opts []privilege.UserOption
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
		default:
			return nil, notSupported("password expiry and history options")
		}
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

// needCreateUserOr is CREATE USER, or rolePriv for a role statement
// (CREATE ROLE, DROP ROLE), as MySQL accepts either there.
func (x *accountExec) needCreateUserOr(isRole bool, rolePriv priv.Mask) error {
	if isRole && x.sess.RequestVerification("", "", "", rolePriv) == nil {
		return nil
	}
	return x.needCreateUser()
}

func (x *accountExec) createUser(st *ast.CreateUserStmt) error {
	if err := x.needCreateUserOr(st.IsCreateRole, priv.CreateRole); err != nil {
		return err
	}
	opts, err := userOptions(st.AuthTokenOrTLSOptions, st.PasswordOrLockOptions)
	if err != nil {
		return err
	}
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		snap := tx.Snapshot()
		for _, spec := range st.Specs {
			a := x.account(spec.User)
			if _, exists := snap.User(a); exists && st.IfNotExists {
				continue
			}
			if st.IsCreateRole {
				if err := tx.CreateRole(a); err != nil {
					return err
				}
				continue
			}
			if err := tx.CreateUser(a, x.credential(spec.AuthOpt), opts...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (x *accountExec) alterUser(st *ast.AlterUserStmt) error {
	opts, err := userOptions(st.AuthTokenOrTLSOptions, st.PasswordOrLockOptions)
	if err != nil {
		return err
	}
	// Changing only one's own password needs no privilege.
	self := len(st.Specs) == 1 && x.isSelf(x.account(st.Specs[0].User)) &&
		len(opts) == 0 && st.Specs[0].AuthOpt != nil && st.Specs[0].AuthOpt.AuthPlugin == ""
	if !self {
		if err := x.needCreateUser(); err != nil {
			return err
		}
	} else if err := x.sess.RequestSelfChange(authplugin.SelfPassword); err != nil {
		return err
	}
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		snap := tx.Snapshot()
		for _, spec := range st.Specs {
			a := x.account(spec.User)
			if _, exists := snap.User(a); !exists && st.IfExists {
				continue
			}
			if err := x.protectSystemUser(a); err != nil {
				return err
			}
			if spec.AuthOpt != nil {
				cred := x.credential(spec.AuthOpt)
				if spec.AuthOpt.AuthPlugin == "" {
					// IDENTIFIED BY without WITH keeps the account's plugin.
					if u, ok := snap.User(a); ok {
						cred.Plugin = u.Plugin
					}
				}
				if err := tx.SetCredential(a, cred); err != nil {
					return err
				}
			}
			if err := tx.AlterUser(a, opts...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (x *accountExec) dropUser(st *ast.DropUserStmt) error {
	if err := x.needCreateUserOr(st.IsDropRole, priv.DropRole); err != nil {
		return err
	}
	// Without CREATE USER, the DROP ROLE privilege drops roles only: locked
	// accounts, as MySQL tells them from login accounts.
	rolesOnly := x.needCreateUser() != nil
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		snap := tx.Snapshot()
		for _, u := range st.UserList {
			a := x.account(u)
			row, exists := snap.User(a)
			if !exists && st.IfExists {
				continue
			}
			if exists && rolesOnly && !row.Locked {
				return mysqlerr.SpecificAccessDenied("CREATE USER")
			}
			if err := x.protectSystemUser(a); err != nil {
				return err
			}
			if err := tx.DropUser(a); err != nil {
				if st.IsDropRole {
					return mysqlerr.CannotUser("DROP ROLE", a.String())
				}
				return err
			}
		}
		return nil
	})
}

func (x *accountExec) setPassword(st *ast.SetPwdStmt) error {
	a := x.sess.Account()
	if st.User != nil && !st.User.CurrentUser {
		a = x.account(st.User)
	}
	if !x.isSelf(a) {
		if err := x.needCreateUser(); err != nil {
			return err
		}
		if err := x.protectSystemUser(a); err != nil {
			return err
		}
	} else if err := x.sess.RequestSelfChange(authplugin.SelfPassword); err != nil {
		return err
	}
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		u, ok := tx.Snapshot().User(a)
		if !ok {
			return mysqlerr.CannotUser("SET PASSWORD", a.String())
		}
		return tx.SetCredential(a, privilege.IdentifiedBy(u.Plugin, st.Password))
	})
}

// target is a GRANT/REVOKE object.
func (x *accountExec) target(l *ast.GrantLevel) (privilege.Object, error) {
	switch l.Level {
	case ast.GrantLevelGlobal:
		return privilege.Object{}, nil
	case ast.GrantLevelDB:
		db := l.DBName
		if db == "" {
			db = x.db
		}
		if db == "" {
			return privilege.Object{}, mysqlerr.New(1046, "3D000", "No database selected")
		}
		return privilege.Object{DB: db}, nil
	}
	db := l.DBName
	if db == "" {
		db = x.db
	}
	if db == "" {
		return privilege.Object{}, mysqlerr.New(1046, "3D000", "No database selected")
	}
	return privilege.Object{DB: db, Table: l.TableName}, nil
}

// privPart is one element of a GRANT list: a static mask (on the object or
// on columns) or a dynamic privilege.
type privPart struct {
	mask    priv.Mask
	cols    []string
	dynamic string
}

func privParts(elems []*ast.PrivElem, level priv.Level) ([]privPart, error) {
	var out []privPart
	for _, e := range elems {
		var p privPart
		switch e.Priv {
		case tidbmysql.AllPriv:
			p.mask = level.All()
		case tidbmysql.UsagePriv:
			continue
		case tidbmysql.ExtendedPriv:
			p.dynamic = strings.ToUpper(e.Name)
		default:
			m, ok := priv.Parse(e.Priv.String())
			if !ok {
				return nil, notSupported(e.Priv.String())
			}
			p.mask = m
		}
		for _, c := range e.Cols {
			p.cols = append(p.cols, c.Name.O)
		}
		if p.dynamic != "" && level != priv.Global {
			return nil, mysqlerr.IllegalGrantForTable()
		}
		out = append(out, p)
	}
	return out, nil
}

// grant is GRANT and REVOKE of privileges. The grantor needs GRANT OPTION on
// the object and every privilege it hands on, as in MySQL; REVOKE ALL
// PRIVILEGES, GRANT OPTION needs CREATE USER.
func (x *accountExec) grant(elems []*ast.PrivElem, level *ast.GrantLevel, users []*ast.UserSpec, withGrant, revoke bool) error {
	if revoke && isRevokeAll(elems, level) {
		if err := x.needCreateUser(); err != nil {
			return err
		}
		for _, u := range users {
			if err := x.protectSystemUser(x.account(u.User)); err != nil {
				return err
			}
		}
		return x.s.mgr.Update(func(tx *privilege.Tx) error {
			for _, u := range users {
				if err := tx.RevokeAll(x.account(u.User)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	obj, err := x.target(level)
	if err != nil {
		return err
	}
	parts, err := privParts(elems, obj.Level())
	if err != nil {
		return err
	}
	if err := x.sess.RequestVerification(obj.DB, obj.Table, "", priv.GrantOption); err != nil {
		return err
	}
	for _, p := range parts {
		if p.dynamic != "" {
			if err := x.sess.RequestDynamicVerification(p.dynamic, true); err != nil {
				return err
			}
			continue
		}
		if len(p.cols) == 0 {
			if err := x.sess.RequestVerification(obj.DB, obj.Table, "", p.mask&^priv.GrantOption); err != nil {
				return err
			}
			continue
		}
		// A column privilege can be handed on by whoever holds it on the
		// column, or on the whole table.
		for _, c := range p.cols {
			if err := x.sess.RequestVerification(obj.DB, obj.Table, c, p.mask); err != nil {
				return err
			}
		}
	}
	for _, u := range users {
		if err := x.protectSystemUser(x.account(u.User)); err != nil {
			return err
		}
	}
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		for _, u := range users {
			a := x.account(u.User)
			for _, p := range parts {
				if err := x.applyPart(tx, a, obj, p, withGrant, revoke); err != nil {
					return err
				}
			}
			if withGrant && !revoke && len(parts) == 0 {
				if err := tx.Grant(a, obj, priv.GrantOption, false); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func (x *accountExec) applyPart(tx *privilege.Tx, a priv.Account, obj privilege.Object, p privPart, withGrant, revoke bool) error {
	switch {
	case p.dynamic != "" && revoke:
		return tx.RevokeDynamic(a, p.dynamic)
	case p.dynamic != "":
		return tx.GrantDynamic(a, p.dynamic, withGrant)
	case len(p.cols) > 0:
		if obj.Level() != priv.Table {
			return mysqlerr.IllegalGrantForTable()
		}
		for _, c := range p.cols {
			o := obj
			o.Column = c
			var err error
			if revoke {
				err = tx.Revoke(a, o, p.mask)
			} else {
				err = tx.Grant(a, o, p.mask, withGrant)
			}
			if err != nil {
				return err
			}
		}
		return nil
	case revoke:
		return tx.Revoke(a, obj, p.mask)
	}
	return tx.Grant(a, obj, p.mask, withGrant)
}

func isRevokeAll(elems []*ast.PrivElem, level *ast.GrantLevel) bool {
	if level != nil && level.Level != ast.GrantLevelNone {
		return false
	}
	return len(elems) == 2 && elems[0].Priv == tidbmysql.AllPriv && elems[1].Priv == tidbmysql.GrantPriv
}

// roles is GRANT role TO user and REVOKE role FROM user: ROLE_ADMIN, or
// WITH ADMIN OPTION on each role.
func (x *accountExec) roles(roles []*auth.RoleIdentity, users []*auth.UserIdentity, revoke bool) error {
	if x.sess.RequestDynamicVerification("ROLE_ADMIN", false) != nil {
		snap := x.s.mgr.Snapshot()
		admin, _ := snap.Account(x.sess.Account())
		for _, r := range roles {
			if !slices.Contains(admin.Roles, privilege.RoleGrant{Role: role(r), WithAdmin: true}) {
				return mysqlerr.SpecificAccessDenied("ROLE_ADMIN")
			}
		}
	}
	for _, u := range users {
		if err := x.protectSystemUser(x.account(u)); err != nil {
			return err
		}
	}
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		for _, u := range users {
			for _, r := range roles {
				var err error
				if revoke {
					err = tx.RevokeRole(role(r), x.account(u))
				} else {
					err = tx.GrantRole(role(r), x.account(u), false)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// proxy is GRANT/REVOKE PROXY ON target TO proxy. The grantor needs PROXY
// on the target WITH GRANT OPTION, or to be the target (MySQL 8). authplug
// has no wildcard PROXY grant (MySQL's ”@” for root): an administrator
// holding CREATE USER and GRANT OPTION globally and SYSTEM_USER stands in
// for it. A target or proxy holding SYSTEM_USER needs SYSTEM_USER too.
func (x *accountExec) proxy(st *ast.GrantProxyStmt, revoke bool) error {
	target := x.account(st.LocalUser)
	me := x.sess.AuthenticatedAccount()
	snap := x.s.mgr.Snapshot()
	mine, _ := snap.Account(me)
	_, acting := x.sess.Impersonating()
	switch {
	case !acting && target == me:
	case !acting && slices.Contains(mine.Proxies, privilege.ProxyGrant{Target: target, WithGrant: true}):
	default:
		if x.sess.RequestVerification("", "", "", priv.CreateUser|priv.GrantOption) != nil ||
			x.sess.RequestDynamicVerification("SYSTEM_USER", false) != nil {
			return mysqlerr.SpecificAccessDenied("PROXY")
		}
	}
	if err := x.protectSystemUser(target); err != nil {
		return err
	}
	for _, u := range st.ExternalUsers {
		if err := x.protectSystemUser(x.account(u)); err != nil {
			return err
		}
	}
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		for _, u := range st.ExternalUsers {
			var err error
			if revoke {
				err = tx.RevokeProxy(target, x.account(u))
			} else {
				err = tx.GrantProxy(target, x.account(u), st.WithGrant)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (x *accountExec) setRole(st *ast.SetRoleStmt) error {
	me := x.sess.AuthenticatedAccount()
	snap := x.s.mgr.Snapshot()
	granted := snap.GrantedRoles(me)
	var roles []priv.Account
	switch st.SetRoleOpt {
	case ast.SetRoleDefault:
		roles = snap.DefaultRoles(me)
	case ast.SetRoleNone:
	case ast.SetRoleAll:
		roles = granted
	case ast.SetRoleAllExcept:
		except := toAccounts(st.RoleList)
		for _, r := range granted {
			if !slices.Contains(except, r) {
				roles = append(roles, r)
			}
		}
	case ast.SetRoleRegular:
		roles = toAccounts(st.RoleList)
	}
	return x.sess.SetActiveRoles(roles)
}

func toAccounts(rs []*auth.RoleIdentity) []priv.Account {
	out := make([]priv.Account, len(rs))
	for i, r := range rs {
		out[i] = role(r)
	}
	return out
}

func (x *accountExec) setDefaultRole(st *ast.SetDefaultRoleStmt) error {
	self := true
	for _, u := range st.UserList {
		if !x.isSelf(x.account(u)) {
			if err := x.needCreateUser(); err != nil {
				return err
			}
			self = false
			break
		}
	}
	if self {
		if err := x.sess.RequestSelfChange(authplugin.SelfDefaultRole); err != nil {
			return err
		}
	}
	return x.s.mgr.Update(func(tx *privilege.Tx) error {
		snap := tx.Snapshot()
		for _, u := range st.UserList {
			a := x.account(u)
			var roles []priv.Account
			switch st.SetRoleOpt {
			case ast.SetRoleAll:
				roles = snap.GrantedRoles(a)
			case ast.SetRoleRegular:
				roles = toAccounts(st.RoleList)
			}
			if err := tx.SetDefaultRoles(a, roles); err != nil {
				return err
			}
		}
		return nil
	})
}

func (x *accountExec) showGrants(st *ast.ShowStmt) (*sqltypes.Result, error) {
	a := x.sess.Account()
	if st.User != nil && !st.User.CurrentUser {
		a = x.account(st.User)
	}
	if a != x.sess.Account() {
		if err := x.sess.RequestVerification("mysql", "", "", priv.Select); err != nil {
			return nil, err
		}
	}
	ad, ok := x.s.mgr.Snapshot().Account(a)
	if !ok {
		return nil, mysqlerr.NonexistingGrant(a.User, a.Host)
	}
	name := fmt.Sprintf("Grants for %s@%s", a.User, a.Host)
	res := &sqltypes.Result{Fields: []*querypb.Field{{Name: name, Type: querypb.Type_VARCHAR, Charset: 33}}}
	for _, line := range grantLines(ad) {
		res.Rows = append(res.Rows, []sqltypes.Value{sqltypes.NewVarChar(line)})
	}
	return res, nil
}

// grantLines renders an account's grants as MySQL's SHOW GRANTS does.
func grantLines(ad privilege.AccountData) []string {
	to := " TO " + ad.Account.Backquoted()
	privList := func(m priv.Mask, l priv.Level) string {
		m &^= priv.GrantOption
		if m != 0 && m&l.All() == l.All() {
			return "ALL PRIVILEGES"
		}
		if m == 0 {
			return "USAGE"
		}
		return m.String()
	}
	withGrant := func(m priv.Mask) string {
		if m&priv.GrantOption != 0 {
			return " WITH GRANT OPTION"
		}
		return ""
	}
	var global priv.Mask
	var lines, tables []string
	cols := map[string]map[priv.Mask][]string{} // db.table -> privilege -> columns
	tableMask := map[string]priv.Mask{}
	for _, g := range ad.Grants {
		switch g.Level() {
		case priv.Global:
			global = g.Privs
		case priv.Database:
			lines = append(lines, fmt.Sprintf("GRANT %s ON %s.*%s%s", privList(g.Privs, priv.Database), bq(g.DB), to, withGrant(g.Privs)))
		case priv.Table:
			k := bq(g.DB) + "." + bq(g.Table)
			if _, seen := tableMask[k]; !seen && cols[k] == nil {
				tables = append(tables, k)
			}
			tableMask[k] = g.Privs
		case priv.Column:
			k := bq(g.DB) + "." + bq(g.Table)
			if _, seen := tableMask[k]; !seen && cols[k] == nil {
				tables = append(tables, k)
			}
			if cols[k] == nil {
				cols[k] = map[priv.Mask][]string{}
			}
			for _, one := range splitMask(g.Privs) {
				cols[k][one] = append(cols[k][one], bq(g.Column))
			}
		}
	}
	head := []string{fmt.Sprintf("GRANT %s ON *.*%s%s", privList(global, priv.Global), to, withGrant(global))}
	var dyn, dynGrant []string
	for _, d := range ad.Dynamic {
		if d.WithGrant {
			dynGrant = append(dynGrant, d.Name)
		} else {
			dyn = append(dyn, d.Name)
		}
	}
	if len(dyn) > 0 {
		head = append(head, fmt.Sprintf("GRANT %s ON *.*%s", strings.Join(dyn, ","), to))
	}
	if len(dynGrant) > 0 {
		head = append(head, fmt.Sprintf("GRANT %s ON *.*%s WITH GRANT OPTION", strings.Join(dynGrant, ","), to))
	}
	for _, k := range tables {
		var items []string
		if m := tableMask[k] &^ priv.GrantOption; m != 0 {
			items = append(items, privList(m, priv.Table))
		}
		for _, one := range splitMask(priv.AllColumn) {
			if c := cols[k][one]; len(c) > 0 {
				items = append(items, fmt.Sprintf("%s (%s)", one.Name(), strings.Join(c, ", ")))
			}
		}
		if len(items) == 0 {
			items = []string{"USAGE"}
		}
		lines = append(lines, fmt.Sprintf("GRANT %s ON %s%s%s", strings.Join(items, ", "), k, to, withGrant(tableMask[k])))
	}
	for _, p := range ad.Proxies {
		line := fmt.Sprintf("GRANT PROXY ON %s%s", p.Target.Backquoted(), to)
		if p.WithGrant {
			line += " WITH GRANT OPTION"
		}
		lines = append(lines, line)
	}
	if len(ad.Roles) > 0 {
		var rs []string
		for _, r := range ad.Roles {
			rs = append(rs, r.Role.Backquoted())
		}
		lines = append(lines, fmt.Sprintf("GRANT %s%s", strings.Join(rs, ","), to))
	}
	return append(head, lines...)
}

func bq(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
