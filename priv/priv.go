// Package priv is the privilege vocabulary every authplug layer shares:
// MySQL's static privileges as a bit mask, the grant levels they apply at,
// and account names (user@host).
package priv

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"strings"
)

// Mask is a set of MySQL static privileges.
type Mask uint64

// MySQL's static privileges. PROXY is not here: it is granted per target
// account, not per object (see the privilege package).
const (
	Select Mask = 1 << iota
	Insert
	Update
	Delete
	Create
	Drop
	Reload
	Shutdown
	Process
	File
	GrantOption
	References
	Index
	Alter
	ShowDB
	Super
	CreateTmpTable
	LockTables
	Execute
	ReplSlave
	ReplClient
	CreateView
	ShowView
	CreateRoutine
	AlterRoutine
	CreateUser
	Event
	Trigger
	CreateTablespace
	CreateRole
	DropRole

	lastPriv
)

// Level is where a grant applies.
type Level uint8

// Grant levels, from the widest.
const (
	Global Level = iota
	Database
	Table
	Column
)

func (l Level) String() string {
	switch l {
	case Global:
		return "GLOBAL"
	case Database:
		return "DB"
	case Table:
		return "TABLE"
	case Column:
		return "COLUMN"
	}
	return "UNKNOWN"
}

// Which privileges exist at each level (MySQL 8 reference manual, "Privileges
// Provided by MySQL", column "Context").
const (
	AllGlobal Mask = lastPriv - 1
	AllDB          = Select | Insert | Update | Delete | Create | Drop | GrantOption | References |
		Index | Alter | CreateTmpTable | LockTables | CreateView | ShowView | CreateRoutine |
		AlterRoutine | Execute | Event | Trigger
	AllTable = Select | Insert | Update | Delete | Create | Drop | GrantOption | References |
		Index | Alter | CreateView | ShowView | Trigger
	AllColumn = Select | Insert | Update | References
)

// Valid returns the privileges that can be granted at level l.
func (l Level) Valid() Mask {
	switch l {
	case Global:
		return AllGlobal
	case Database:
		return AllDB
	case Table:
		return AllTable
	case Column:
		return AllColumn
	}
	return 0
}

// All is what GRANT ALL [PRIVILEGES] means at level l: every privilege of
// the level except GRANT OPTION, which is only given by WITH GRANT OPTION.
func (l Level) All() Mask { return l.Valid() &^ GrantOption }

var names = [...]string{
	"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "RELOAD", "SHUTDOWN",
	"PROCESS", "FILE", "GRANT OPTION", "REFERENCES", "INDEX", "ALTER", "SHOW DATABASES",
	"SUPER", "CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "REPLICATION SLAVE",
	"REPLICATION CLIENT", "CREATE VIEW", "SHOW VIEW", "CREATE ROUTINE", "ALTER ROUTINE",
	"CREATE USER", "EVENT", "TRIGGER", "CREATE TABLESPACE", "CREATE ROLE", "DROP ROLE",
}

var byName = func() map[string]Mask {
	m := make(map[string]Mask, len(names))
	for i, n := range names {
		m[n] = 1 << i
	}
	return m
}()

// Name returns the MySQL name of a single privilege, as used in GRANT and in
// error messages ("SELECT", "CREATE VIEW"); for several, the first.
func (m Mask) Name() string {
	if m == 0 {
		return "USAGE"
	}
	return names[bits.TrailingZeros64(uint64(m))]
}

// Names lists the privileges in m in MySQL's order.
func (m Mask) Names() []string {
	var out []string
	for m != 0 {
		i := bits.TrailingZeros64(uint64(m))
		out = append(out, names[i])
		m &^= 1 << i
	}
	return out
}

// Split lists the single privileges in m in MySQL's order.
func (m Mask) Split() []Mask {
	var out []Mask
	for m != 0 {
		b := m & -m
		out = append(out, b)
		m &^= b
	}
	return out
}

func (m Mask) String() string {
	if m == 0 {
		return "USAGE"
	}
	return strings.Join(m.Names(), ", ")
}

// Parse returns the static privilege called name (case-insensitive, spaces or
// underscores between words). ok is false for anything else, including
// dynamic privileges and ALL, whose meaning depends on the level.
func Parse(name string) (m Mask, ok bool) {
	n := strings.Join(strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool {
		return r == ' ' || r == '_' || r == '\t'
	}), " ")
	m, ok = byName[n]
	return m, ok
}

// Account is a MySQL account or role name: user@host, where host may be a
// pattern. The zero Host is not "%": callers spell it out.
type Account struct {
	User string `json:"user"`
	Host string `json:"host"`
}

// String quotes the account as MySQL prints it in messages: 'user'@'host'.
func (a Account) String() string {
	return quote(a.User, '\'') + "@" + quote(a.Host, '\'')
}

// Backquoted prints the account as MySQL does in role messages: `user`@`host`.
func (a Account) Backquoted() string {
	return quote(a.User, '`') + "@" + quote(a.Host, '`')
}

func quote(s string, q byte) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		if s[i] == q {
			b.WriteByte(q)
		}
		b.WriteByte(s[i])
	}
	b.WriteByte(q)
	return b.String()
}

// MarshalJSON writes the privileges by name, so stored grants do not depend
// on bit positions.
func (m Mask) MarshalJSON() ([]byte, error) {
	return json.Marshal(m.Names())
}

// UnmarshalJSON reads what MarshalJSON wrote; an unknown name is an error.
func (m *Mask) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*m = 0
	for _, n := range list {
		p, ok := Parse(n)
		if !ok {
			return fmt.Errorf("unknown privilege %q", n)
		}
		*m |= p
	}
	return nil
}
