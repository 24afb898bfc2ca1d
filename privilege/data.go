package privilege

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/authplug/authplug/priv"
)

// Data is every account and grant of a snapshot in a plain form, for a host
// to persist and load (JSON-ready) and to list (SHOW GRANTS).
type Data struct {
	Version  int           `json:"version"`
	Accounts []AccountData `json:"accounts"`
	Definers []DefinerData `json:"definers,omitempty"`
}

// DataVersion is the Data format this package writes and reads.
const DataVersion = 1

// AccountData is one account: its row and everything granted to it.
type AccountData struct {
	User
	Grants       []GrantData    `json:"grants,omitempty"`
	Dynamic      []DynamicGrant `json:"dynamic,omitempty"`
	Roles        []RoleGrant    `json:"roles,omitempty"`
	DefaultRoles []priv.Account `json:"default_roles,omitempty"`
	Proxies      []ProxyGrant   `json:"proxies,omitempty"`
}

// GrantData is the static privileges held at one object (GRANT OPTION
// included as a privilege).
type GrantData struct {
	Object
	Privs priv.Mask `json:"privs"`
}

// DynamicGrant is one dynamic privilege.
type DynamicGrant struct {
	Name      string `json:"name"`
	WithGrant bool   `json:"with_grant,omitempty"`
}

// RoleGrant is one role granted to the account.
type RoleGrant struct {
	Role      priv.Account `json:"role"`
	WithAdmin bool         `json:"with_admin,omitempty"`
}

// ProxyGrant is one account the account may act as.
type ProxyGrant struct {
	Target    priv.Account `json:"target"`
	WithGrant bool         `json:"with_grant,omitempty"`
}

// Data returns the snapshot's accounts and grants, sorted.
func (s *Snapshot) Data() Data {
	d := Data{Version: DataVersion}
	for _, u := range s.Users() {
		d.Accounts = append(d.Accounts, s.accountData(s.entry(u.Account)))
	}
	if len(s.definers) > 0 {
		d.Definers = s.definerData()
	}
	return d
}

// Account returns one account's data.
func (s *Snapshot) Account(a priv.Account) (AccountData, bool) {
	e := s.entry(a)
	if e == nil {
		return AccountData{}, false
	}
	return s.accountData(e), true
}

func (s *Snapshot) accountData(e *entry) AccountData {
	ad := AccountData{User: *e.user, DefaultRoles: slices.Clone(e.defaultRoles)}
	g := e.grants
	if g.global != 0 {
		ad.Grants = append(ad.Grants, GrantData{Privs: g.global})
	}
	for _, db := range slices.Sorted(maps.Keys(g.db)) {
		ad.Grants = append(ad.Grants, GrantData{Object: Object{DB: db}, Privs: g.db[db]})
	}
	for _, db := range slices.Sorted(maps.Keys(g.table)) {
		for _, t := range slices.Sorted(maps.Keys(g.table[db])) {
			ad.Grants = append(ad.Grants, GrantData{Object: Object{DB: db, Table: t}, Privs: g.table[db][t]})
		}
	}
	for _, db := range slices.Sorted(maps.Keys(g.column)) {
		for _, t := range slices.Sorted(maps.Keys(g.column[db])) {
			for _, c := range slices.Sorted(maps.Keys(g.column[db][t])) {
				ad.Grants = append(ad.Grants, GrantData{Object: Object{DB: db, Table: t, Column: c}, Privs: g.column[db][t][c]})
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(g.dynamic)) {
		ad.Dynamic = append(ad.Dynamic, DynamicGrant{Name: n, WithGrant: g.dynamic[n]})
	}
	for _, r := range sortedKeys(e.roles) {
		ad.Roles = append(ad.Roles, RoleGrant{Role: r, WithAdmin: e.roles[r]})
	}
	for _, t := range sortedKeys(e.proxies) {
		ad.Proxies = append(ad.Proxies, ProxyGrant{Target: t, WithGrant: e.proxies[t]})
	}
	slices.SortFunc(ad.Proxies, func(a, b ProxyGrant) int { return cmp.Compare(a.Target.String(), b.Target.String()) })
	return ad
}

// grantAll gives ad's account everything ad says it holds but its default
// roles, which need every role granted first; it appends each error to
// errs, so that a load reports all of them.
func (tx *Tx) grantAll(errs []error, ad AccountData) []error {
	a := ad.Account
	for _, g := range ad.Grants {
		errs = append(errs, tx.Grant(a, g.Object, g.Privs, false))
	}
	for _, dg := range ad.Dynamic {
		errs = append(errs, tx.GrantDynamic(a, dg.Name, dg.WithGrant))
	}
	for _, r := range ad.Roles {
		errs = append(errs, tx.GrantRole(r.Role, a, r.WithAdmin))
	}
	for _, p := range ad.Proxies {
		errs = append(errs, tx.GrantProxy(p.Target, a, p.WithGrant))
	}
	return errs
}

// Load replaces the transaction's whole state with d: what a host does with
// the file it saved. It checks d as it goes (levels, role loops, references
// to accounts that are not in d) and fails rather than load part of it.
func (tx *Tx) Load(d Data) error {
	if d.Version != DataVersion {
		return fmt.Errorf("privilege data version %d, want %d", d.Version, DataVersion)
	}
	// Every account goes, and those of d are built in place: the base's
	// are all touched, so that change reports those d lacks as deleted.
	for a := range tx.users.all() {
		tx.touched[a] = true
	}
	b := newPmapBuilder[priv.Account, *entry]()
	tx.loading, tx.reset = &b, true
	defer func() { tx.users, tx.loading = b.pmap(), nil }()
	for _, ad := range d.Accounts {
		if err := tx.CreateUser(ad.Account, IdentifiedAs(ad.Plugin, ad.AuthString)); err != nil {
			return fmt.Errorf("account %s: %w", ad.Account, err)
		}
		u := ad.User
		if u.PasswordChanged.IsZero() {
			// Saved before change times were: count the password as set
			// now rather than expire it at once.
			u.PasswordChanged = tx.clock()
		}
		u.ID = tx.savedID(u)
		tx.get(ad.Account).user = &u
	}
	var errs []error
	for _, ad := range d.Accounts {
		errs = tx.grantAll(errs, ad)
	}
	for _, ad := range d.Accounts {
		errs = append(errs, tx.SetDefaultRoles(ad.Account, ad.DefaultRoles))
	}
	tx.definers, tx.definersOwned = map[DefinedObject]Definer{}, true
	for _, dd := range d.Definers {
		tx.SetDefiner(dd.DefinedObject, dd.Definer)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("privilege data: %w", err)
	}
	return nil
}
