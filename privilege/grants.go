package privilege

import (
	"maps"
	"strings"

	"github.com/authplug/authplug/priv"
)

// Object is what a grant is on. An empty DB is global (*.*); an empty Table is
// a whole database (db.*); a Column narrows a table grant to one column.
// Names are compared case-insensitively, as the host engine resolves them.
type Object struct {
	DB     string `json:"db,omitempty"`
	Table  string `json:"table,omitempty"`
	Column string `json:"column,omitempty"`
}

// Level is the grant level the object names.
func (o Object) Level() priv.Level {
	switch {
	case o.DB == "":
		return priv.Global
	case o.Table == "":
		return priv.Database
	case o.Column == "":
		return priv.Table
	}
	return priv.Column
}

func (o Object) normalized() Object {
	return Object{DB: strings.ToLower(o.DB), Table: strings.ToLower(o.Table), Column: strings.ToLower(o.Column)}
}

// grantSet is the privileges held by one account, or the union for an
// account and its active roles. It is never modified once published.
type grantSet struct {
	global  priv.Mask
	db      map[string]priv.Mask
	table   map[string]map[string]priv.Mask
	column  map[string]map[string]map[string]priv.Mask
	dynamic map[string]bool // name -> WITH GRANT OPTION
}

var emptyGrants = &grantSet{}

// allows reports whether the set holds every privilege in p for the object.
// Privileges add up across levels, as in MySQL: a global SELECT covers every
// table, a database INSERT every table in it.
func (g *grantSet) allows(db, table, column string, p priv.Mask) bool {
	need := p &^ g.global
	if need == 0 {
		return true
	}
	if db == "" {
		return false
	}
	if need &^= g.db[db]; need == 0 {
		return true
	}
	if table == "" {
		return false
	}
	if need &^= g.table[db][table]; need == 0 {
		return true
	}
	if column == "" {
		return false
	}
	need &^= g.column[db][table][column]
	return need == 0
}

// anyColumnAllows reports whether some column of db.table is allowed p,
// the wider levels counted: whether a refusal of p on the table is met on
// some of its columns.
func (g *grantSet) anyColumnAllows(db, table string, p priv.Mask) bool {
	need := p &^ g.global &^ g.db[db] &^ g.table[db][table]
	for _, m := range g.column[db][table] {
		if need&^m == 0 {
			return true
		}
	}
	return false
}

// anyOn reports whether the set holds any privilege on db (table empty) or
// db.table. Only privileges that exist at that level count from the wider
// ones: FILE or PROCESS on *.* does not make a database visible, as in
// MySQL. GRANT OPTION alone shows nothing.
func (g *grantSet) anyOn(db, table string) bool {
	level := priv.AllDB
	if table != "" {
		level = priv.AllTable
	}
	level &^= priv.GrantOption
	if g.global&level != 0 || g.db[db]&level != 0 {
		return true
	}
	if table == "" {
		return len(g.table[db]) > 0 || len(g.column[db]) > 0
	}
	return g.table[db][table]&^priv.GrantOption != 0 || len(g.column[db][table]) > 0
}

func (g *grantSet) allowsDynamic(name string, withGrant bool) bool {
	wg, ok := g.dynamic[name]
	return ok && (wg || !withGrant)
}

func (g *grantSet) empty() bool {
	return g.global == 0 && len(g.db) == 0 && len(g.table) == 0 && len(g.column) == 0 && len(g.dynamic) == 0
}

func (g *grantSet) clone() *grantSet {
	c := &grantSet{global: g.global, db: maps.Clone(g.db), dynamic: maps.Clone(g.dynamic)}
	if g.table != nil {
		c.table = make(map[string]map[string]priv.Mask, len(g.table))
		for db, t := range g.table {
			c.table[db] = maps.Clone(t)
		}
	}
	if g.column != nil {
		c.column = make(map[string]map[string]map[string]priv.Mask, len(g.column))
		for db, ts := range g.column {
			c.column[db] = make(map[string]map[string]priv.Mask, len(ts))
			for t, cols := range ts {
				c.column[db][t] = maps.Clone(cols)
			}
		}
	}
	return c
}

// at returns the privileges held exactly at o.
func (g *grantSet) at(o Object) priv.Mask {
	switch o.Level() {
	case priv.Global:
		return g.global
	case priv.Database:
		return g.db[o.DB]
	case priv.Table:
		return g.table[o.DB][o.Table]
	}
	return g.column[o.DB][o.Table][o.Column]
}

// set replaces the privileges held exactly at o, dropping empty entries so
// that the set stays small and REVOKE leaves no trace.
func (g *grantSet) set(o Object, m priv.Mask) {
	switch o.Level() {
	case priv.Global:
		g.global = m
	case priv.Database:
		g.db = setIn(g.db, o.DB, m)
	case priv.Table:
		if g.table == nil {
			g.table = map[string]map[string]priv.Mask{}
		}
		if t := setIn(g.table[o.DB], o.Table, m); t != nil {
			g.table[o.DB] = t
		} else {
			delete(g.table, o.DB)
		}
	default:
		if g.column == nil {
			g.column = map[string]map[string]map[string]priv.Mask{}
		}
		ts := g.column[o.DB]
		if ts == nil {
			ts = map[string]map[string]priv.Mask{}
		}
		if cols := setIn(ts[o.Table], o.Column, m); cols != nil {
			ts[o.Table] = cols
		} else {
			delete(ts, o.Table)
		}
		if len(ts) > 0 {
			g.column[o.DB] = ts
		} else {
			delete(g.column, o.DB)
		}
	}
}

func setIn(m map[string]priv.Mask, k string, v priv.Mask) map[string]priv.Mask {
	if v == 0 {
		delete(m, k)
		if len(m) == 0 {
			return nil
		}
		return m
	}
	if m == nil {
		m = map[string]priv.Mask{}
	}
	m[k] = v
	return m
}

// union adds o's privileges to g (g must be a private copy).
func (g *grantSet) union(o *grantSet) {
	g.global |= o.global
	for db, m := range o.db {
		g.set(Object{DB: db}, g.db[db]|m)
	}
	for db, ts := range o.table {
		for t, m := range ts {
			obj := Object{DB: db, Table: t}
			g.set(obj, g.at(obj)|m)
		}
	}
	for db, ts := range o.column {
		for t, cols := range ts {
			for c, m := range cols {
				obj := Object{DB: db, Table: t, Column: c}
				g.set(obj, g.at(obj)|m)
			}
		}
	}
	for name, wg := range o.dynamic {
		if g.dynamic == nil {
			g.dynamic = map[string]bool{}
		}
		g.dynamic[name] = g.dynamic[name] || wg
	}
}
