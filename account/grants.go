package account

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/auth"
	tidbmysql "github.com/pingcap/tidb/pkg/parser/mysql"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// object is a GRANT/REVOKE object; a database or table without a database
// name is in the session's database.
func (x *run) object(l *ast.GrantLevel) (privilege.Object, error) {
	if l.Level == ast.GrantLevelGlobal {
		return privilege.Object{}, nil
	}
	db := l.DBName
	if db == "" {
		db = x.db
	}
	if db == "" {
		return privilege.Object{}, mysqlerr.Errorf(mysqlerr.ErNoDB, "No database selected")
	}
	if l.Level == ast.GrantLevelDB {
		return privilege.Object{DB: db}, nil
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
		if len(p.cols) > 0 && level != priv.Table {
			return nil, mysqlerr.IllegalGrantForTable()
		}
		out = append(out, p)
	}
	return out, nil
}

// grant is GRANT and REVOKE of privileges. The grantor hands on (or takes
// away) only what it holds WITH GRANT OPTION: the object's GRANT OPTION and
// every privilege named, column and dynamic ones included (MySQL 8).
// REVOKE ALL PRIVILEGES, GRANT OPTION needs CREATE USER. An account
// holding SYSTEM_USER needs SYSTEM_USER to change.
func (x *run) grant(elems []*ast.PrivElem, level *ast.GrantLevel, users []*auth.UserIdentity, withGrant, revoke bool) error {
	if revoke && x.isRevokeAll(elems) {
		return x.revokeAll(users)
	}
	obj, err := x.object(level)
	if err != nil {
		return err
	}
	parts, err := privParts(elems, obj.Level())
	if err != nil {
		return err
	}
	if err := x.sess.MayGrant(obj, 0); err != nil {
		return err
	}
	for _, p := range parts {
		switch {
		case p.dynamic != "":
			err = x.sess.MayGrantDynamic(p.dynamic)
		case len(p.cols) == 0:
			err = x.sess.MayGrant(obj, p.mask)
		default:
			for _, c := range p.cols {
				o := obj
				o.Column = c
				if err = x.sess.MayGrant(o, p.mask); err != nil {
					break
				}
			}
		}
		if err != nil {
			return err
		}
	}
	if err := x.guard(users); err != nil {
		return err
	}
	return x.update(func(tx *privilege.Tx) error {
		for _, u := range users {
			a := x.account(u)
			for _, p := range parts {
				if err := applyPart(tx, a, obj, p, withGrant, revoke); err != nil {
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

func (x *run) revokeAll(users []*auth.UserIdentity) error {
	if err := x.sess.MayManageAccounts(); err != nil {
		return err
	}
	if err := x.guard(users); err != nil {
		return err
	}
	return x.update(func(tx *privilege.Tx) error {
		for _, u := range users {
			if err := tx.RevokeAll(x.account(u)); err != nil {
				return err
			}
		}
		return nil
	})
}

// guard is GuardSystemAccount for each account changed.
func (x *run) guard(users []*auth.UserIdentity) error {
	for _, u := range users {
		if err := x.sess.GuardSystemAccount(x.account(u)); err != nil {
			return err
		}
	}
	return nil
}

func applyPart(tx *privilege.Tx, a priv.Account, obj privilege.Object, p privPart, withGrant, revoke bool) error {
	switch {
	case p.dynamic != "" && revoke:
		return tx.RevokeDynamic(a, p.dynamic)
	case p.dynamic != "":
		return tx.GrantDynamic(a, p.dynamic, withGrant)
	case len(p.cols) > 0:
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

// isRevokeAll is REVOKE ALL [PRIVILEGES], GRANT OPTION FROM ...: no ON
// clause (TiDB's parser gives it the global level).
func (x *run) isRevokeAll(elems []*ast.PrivElem) bool {
	return !x.st.hasOn && len(elems) == 2 && elems[0].Priv == tidbmysql.AllPriv && elems[1].Priv == tidbmysql.GrantPriv
}

// roles is GRANT role TO user and REVOKE role FROM user.
func (x *run) roles(rs []*auth.RoleIdentity, users []*auth.UserIdentity, revoke bool) error {
	for _, r := range rs {
		if err := x.sess.MayGrantRole(role(r)); err != nil {
			return err
		}
	}
	if err := x.guard(users); err != nil {
		return err
	}
	return x.update(func(tx *privilege.Tx) error {
		for _, u := range users {
			for _, r := range rs {
				var err error
				if revoke {
					err = tx.RevokeRole(role(r), x.account(u))
				} else {
					err = tx.GrantRole(role(r), x.account(u), x.st.WithAdmin)
				}
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// proxy is GRANT/REVOKE PROXY ON target TO/FROM proxies.
func (x *run) proxy(n *ast.GrantProxyStmt, revoke bool) error {
	target := x.account(n.LocalUser)
	if err := x.sess.MayGrantProxy(target); err != nil {
		return err
	}
	if err := x.guard(n.ExternalUsers); err != nil {
		return err
	}
	return x.update(func(tx *privilege.Tx) error {
		for _, u := range n.ExternalUsers {
			var err error
			if revoke {
				err = tx.RevokeProxy(target, x.account(u))
			} else {
				err = tx.GrantProxy(target, x.account(u), n.WithGrant)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// setRole is SET ROLE, for the session's own account.
func (x *run) setRole(n *ast.SetRoleStmt) error {
	me := x.sess.AuthenticatedAccount()
	snap := x.e.m.Snapshot()
	granted := snap.GrantedRoles(me)
	var rs []priv.Account
	switch n.SetRoleOpt {
	case ast.SetRoleDefault:
		rs = snap.DefaultRoles(me)
	case ast.SetRoleNone:
	case ast.SetRoleAll:
		rs = granted
	case ast.SetRoleAllExcept:
		except := roles(n.RoleList)
		for _, r := range granted {
			if !slices.Contains(except, r) {
				rs = append(rs, r)
			}
		}
	case ast.SetRoleRegular:
		rs = roles(n.RoleList)
	}
	return x.sess.SetActiveRoles(rs)
}

// setDefaultRole is SET DEFAULT ROLE: one's own needs no privilege (the
// plugin decides), another account's needs CREATE USER.
func (x *run) setDefaultRole(n *ast.SetDefaultRoleStmt) error {
	own := true
	for _, u := range n.UserList {
		own = own && x.sess.IsOwnAccount(x.account(u))
	}
	if own {
		if err := x.sess.RequestSelfChange(authplugin.SelfDefaultRole); err != nil {
			return err
		}
	} else {
		if err := x.sess.MayManageAccounts(); err != nil {
			return err
		}
		if err := x.guard(n.UserList); err != nil {
			return err
		}
	}
	return x.update(func(tx *privilege.Tx) error {
		for _, u := range n.UserList {
			a := x.account(u)
			var rs []priv.Account
			switch n.SetRoleOpt {
			case ast.SetRoleAll:
				rs = tx.GrantedRoles(a)
			case ast.SetRoleRegular:
				rs = roles(n.RoleList)
			}
			if err := tx.SetDefaultRoles(a, rs); err != nil {
				return err
			}
		}
		return nil
	})
}
