package account

import (
	"crypto/rand"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/privilege"
)

func (x *run) createUser(n *ast.CreateUserStmt) error {
	if err := x.sess.MayCreateAccount(n.IsCreateRole); err != nil {
		return err
	}
	if x.st.Replace != nil {
		return mysqlerr.CurrentPasswordNotRequired()
	}
	opts, err := x.userOptions(n.AuthTokenOrTLSOptions, n.ResourceOptions, n.PasswordOrLockOptions)
	if err != nil {
		return err
	}
	creds := make([]newCredential, len(n.Specs))
	for i, spec := range n.Specs {
		if !n.IsCreateRole {
			if creds[i], err = x.prepare(spec.AuthOpt, ""); err != nil {
				return err
			}
		}
	}
	return x.update(func(tx *privilege.Tx) error {
		x.generated = nil
		for i, spec := range n.Specs {
			a := x.account(spec.User)
			if _, exists := tx.User(a); exists && n.IfNotExists {
				continue
			}
			if n.IsCreateRole {
				if err := tx.CreateRole(a); err != nil {
					return err
				}
				continue
			}
			if err := x.store(tx, a, spec.AuthOpt, creds[i], true, opts...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (x *run) alterUser(n *ast.AlterUserStmt) error {
	specs := n.Specs
	if n.CurrentAuth != nil { // ALTER USER USER() IDENTIFIED BY ...
		specs = []*ast.UserSpec{{User: nil, AuthOpt: n.CurrentAuth}}
	}
	opts, err := x.userOptions(n.AuthTokenOrTLSOptions, n.ResourceOptions, n.PasswordOrLockOptions)
	if err != nil {
		return err
	}
	// Changing only one's own password needs no privilege; the session's
	// plugin decides.
	own := len(specs) == 1 && x.sess.IsOwnAccount(x.account(specs[0].User))
	if own && len(opts) == 0 && specs[0].AuthOpt != nil && specs[0].AuthOpt.AuthPlugin == "" {
		err = x.sess.RequestSelfChange(authplugin.SelfPassword)
	} else {
		err = x.sess.MayManageAccounts()
	}
	if err != nil {
		return err
	}
	for _, spec := range specs {
		if a := x.account(spec.User); !x.sess.IsOwnAccount(a) {
			if err := x.sess.GuardSystemAccount(a); err != nil {
				return err
			}
		}
	}
	creds := make([]newCredential, len(specs))
	snap := x.e.m.Snapshot()
	for i, spec := range specs {
		if spec.AuthOpt != nil {
			u, _ := snap.User(x.account(spec.User))
			if creds[i], err = x.prepare(spec.AuthOpt, u.Plugin); err != nil {
				return err
			}
		}
	}
	return x.update(func(tx *privilege.Tx) error {
		x.generated = nil
		for i, spec := range specs {
			a := x.account(spec.User)
			u, exists := tx.User(a)
			if !exists {
				if n.IfExists {
					continue
				}
				return mysqlerr.CannotUser("ALTER USER", a.String())
			}
			if spec.AuthOpt != nil {
				if err := x.checkCurrent(tx, u); err != nil {
					return err
				}
				if err := x.store(tx, a, spec.AuthOpt, creds[i], false); err != nil {
					return err
				}
			} else if x.st.Replace != nil {
				return syntaxError(n.Text())
			}
			if err := tx.AlterUser(a, opts...); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkCurrent applies REPLACE and PASSWORD REQUIRE CURRENT to a password
// change of account u (MySQL 8): REPLACE is for one's own password only
// and must name it; without REPLACE, an account that requires the current
// password may not change its own without it, unless the session holds
// CREATE USER or UPDATE on mysql (Session.NeedsCurrentPassword).
func (x *run) checkCurrent(tx *privilege.Tx, u privilege.User) error {
	own := x.sess.IsOwnAccount(u.Account)
	if x.st.Replace != nil {
		if !own {
			return mysqlerr.CurrentPasswordNotRequired()
		}
		return tx.CheckCurrentPassword(u.Account, *x.st.Replace)
	}
	if x.sess.NeedsCurrentPassword(u.Account) {
		return mysqlerr.MissingCurrentPassword()
	}
	return nil
}

func (x *run) dropUser(n *ast.DropUserStmt) error {
	for _, u := range n.UserList {
		if err := x.sess.MayDropAccount(x.account(u), n.IsDropRole); err != nil {
			return err
		}
	}
	return x.update(func(tx *privilege.Tx) error {
		for _, u := range n.UserList {
			a := x.account(u)
			if _, exists := tx.User(a); !exists && n.IfExists {
				continue
			}
			if err := tx.DropUser(a); err != nil {
				if n.IsDropRole {
					return mysqlerr.CannotUser("DROP ROLE", a.String())
				}
				return err
			}
		}
		return nil
	})
}

// renameUser is RENAME USER: grants, roles, proxy grants and recorded
// definers follow the account to its new name.
func (x *run) renameUser(n *ast.RenameUserStmt) error {
	if err := x.sess.MayManageAccounts(); err != nil {
		return err
	}
	for _, p := range n.UserToUsers {
		if err := x.sess.GuardSystemAccount(x.account(p.OldUser)); err != nil {
			return err
		}
	}
	return x.update(func(tx *privilege.Tx) error {
		for _, p := range n.UserToUsers {
			if err := tx.RenameUser(x.account(p.OldUser), x.account(p.NewUser)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (x *run) setPassword(n *ast.SetPwdStmt) error {
	a := x.account(n.User)
	if x.sess.IsOwnAccount(a) {
		if err := x.sess.RequestSelfChange(authplugin.SelfPassword); err != nil {
			return err
		}
	} else {
		if err := x.sess.MayManageAccounts(); err != nil {
			return err
		}
		if err := x.sess.GuardSystemAccount(a); err != nil {
			return err
		}
	}
	opt := &ast.AuthOption{ByAuthString: true, AuthString: n.Password}
	u, ok := x.e.m.Snapshot().User(a)
	if !ok {
		return mysqlerr.CannotUser("SET PASSWORD", a.String())
	}
	nc, err := x.prepare(opt, u.Plugin)
	if err != nil {
		return err
	}
	return x.update(func(tx *privilege.Tx) error {
		x.generated = nil
		u, ok := tx.User(a)
		if !ok {
			return mysqlerr.CannotUser("SET PASSWORD", a.String())
		}
		if err := x.checkCurrent(tx, u); err != nil {
			return err
		}
		return x.store(tx, a, opt, nc, false)
	})
}

// randomChars are the characters of MySQL's generated passwords.
const randomChars = "1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,.-;:_+*!%&/(){}[]<>@"

// randomPasswordLength is MySQL's generated_random_password_length default.
const randomPasswordLength = 20

// randomPassword is a password for IDENTIFIED BY RANDOM PASSWORD, drawn
// uniformly from randomChars.
func randomPassword() (string, error) {
	b := make([]byte, randomPasswordLength)
	for i := range b {
		for {
			var r [1]byte
			if _, err := rand.Read(r[:]); err != nil {
				return "", err
			}
			// Rejection keeps the draw uniform: 256 is not a multiple of
			// len(randomChars).
			if int(r[0]) < 256-256%len(randomChars) {
				b[i] = randomChars[int(r[0])%len(randomChars)]
				break
			}
		}
	}
	return string(b), nil
}
