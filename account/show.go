package account

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// shown is the account a SHOW GRANTS or SHOW CREATE USER is about: one's
// own (CURRENT_USER(), the account acted as while impersonating) needs no
// privilege, another's needs SELECT on mysql, as in MySQL.
func (x *run) shown(u *ast.ShowStmt) (priv.Account, error) {
	a := x.account(u.User)
	if a != x.sess.Account() {
		if err := x.sess.RequestVerification("mysql", "", "", priv.Select); err != nil {
			return a, err
		}
	}
	return a, nil
}

func (x *run) showGrants(n *ast.ShowStmt) (*Result, error) {
	a, err := x.shown(n)
	if err != nil {
		return nil, err
	}
	ad, ok := x.e.m.Snapshot().Account(a)
	if !ok {
		return nil, mysqlerr.NonexistingGrant(a.User, a.Host)
	}
	res := &Result{Columns: []string{fmt.Sprintf("Grants for %s@%s", a.User, a.Host)}}
	for _, line := range GrantLines(ad) {
		res.Rows = append(res.Rows, []string{line})
	}
	return res, nil
}

func (x *run) showCreateUser(n *ast.ShowStmt) (*Result, error) {
	a, err := x.shown(n)
	if err != nil {
		return nil, err
	}
	u, ok := x.e.m.Snapshot().User(a)
	if !ok {
		return nil, mysqlerr.CannotUser("SHOW CREATE USER", a.String())
	}
	return &Result{
		Columns: []string{fmt.Sprintf("CREATE USER for %s@%s", a.User, a.Host)},
		Rows:    [][]string{{CreateUserText(u)}},
	}, nil
}

// CreateUserText is u as MySQL 8's SHOW CREATE USER writes it: a CREATE
// USER statement that makes the account again, its stored AS string
// included.
func CreateUserText(u privilege.User) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE USER %s IDENTIFIED WITH %s", u.Account.Backquoted(), quote(u.Plugin))
	if u.AuthString != "" {
		b.WriteString(" AS " + quote(u.AuthString))
	}
	if u.RequireSecureTransport {
		b.WriteString(" REQUIRE SSL")
	} else {
		b.WriteString(" REQUIRE NONE")
	}
	if u.MaxUserConnections != 0 {
		fmt.Fprintf(&b, " WITH MAX_USER_CONNECTIONS %d", u.MaxUserConnections)
	}
	switch {
	case u.PasswordExpired:
		b.WriteString(" PASSWORD EXPIRE")
	case u.PasswordLifetimeDays < 0:
		b.WriteString(" PASSWORD EXPIRE NEVER")
	case u.PasswordLifetimeDays > 0:
		fmt.Fprintf(&b, " PASSWORD EXPIRE INTERVAL %d DAY", u.PasswordLifetimeDays)
	default:
		b.WriteString(" PASSWORD EXPIRE DEFAULT")
	}
	if u.Locked {
		b.WriteString(" ACCOUNT LOCK")
	} else {
		b.WriteString(" ACCOUNT UNLOCK")
	}
	b.WriteString(" PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT")
	switch u.RequireCurrent {
	case privilege.RequireCurrentYes:
		b.WriteString(" PASSWORD REQUIRE CURRENT")
	case privilege.RequireCurrentOptional:
		b.WriteString(" PASSWORD REQUIRE CURRENT OPTIONAL")
	default:
		b.WriteString(" PASSWORD REQUIRE CURRENT DEFAULT")
	}
	if u.FailedLoginAttempts != 0 || u.PasswordLockDays != 0 {
		fmt.Fprintf(&b, " FAILED_LOGIN_ATTEMPTS %d PASSWORD_LOCK_TIME ", u.FailedLoginAttempts)
		if u.PasswordLockDays < 0 {
			b.WriteString("UNBOUNDED")
		} else {
			fmt.Fprintf(&b, "%d", u.PasswordLockDays)
		}
	}
	return b.String()
}

// quote writes s as a MySQL string literal that reads back as s.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 26:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// GrantLines renders an account's grants as MySQL's SHOW GRANTS does.
func GrantLines(ad privilege.AccountData) []string {
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
			for _, one := range g.Privs.Split() {
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
		for _, one := range priv.AllColumn.Split() {
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
	var rs, admin []string
	for _, r := range ad.Roles {
		if r.WithAdmin {
			admin = append(admin, r.Role.Backquoted())
		} else {
			rs = append(rs, r.Role.Backquoted())
		}
	}
	if len(rs) > 0 {
		lines = append(lines, fmt.Sprintf("GRANT %s%s", strings.Join(rs, ","), to))
	}
	if len(admin) > 0 {
		lines = append(lines, fmt.Sprintf("GRANT %s%s WITH ADMIN OPTION", strings.Join(admin, ","), to))
	}
	return append(head, lines...)
}

func bq(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
