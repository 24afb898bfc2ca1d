package privilege

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/authplug/authplug/priv"
)

// Views, triggers and stored routines run with their definer's rights
// (RequestVerificationWithUser): the host records who that is when it
// creates one, here, beside the grants, so that the record lives where the
// grants do and no copy of the CREATE text can change it.

// ObjectKind is a kind of object with a definer.
type ObjectKind string

// The kinds of objects with a definer.
const (
	KindView    ObjectKind = "VIEW"
	KindTrigger ObjectKind = "TRIGGER"
	KindRoutine ObjectKind = "ROUTINE"
)

// DefinedObject names an object with a definer; names are compared
// case-insensitively.
type DefinedObject struct {
	Kind ObjectKind `json:"kind"`
	DB   string     `json:"db"`
	Name string     `json:"name"`
}

func (o DefinedObject) key() DefinedObject {
	return DefinedObject{Kind: o.Kind, DB: strings.ToLower(o.DB), Name: strings.ToLower(o.Name)}
}

// Definer is whose rights an object runs with: Account's (SQL SECURITY
// DEFINER), or its caller's when Invoker is set.
type Definer struct {
	Account priv.Account `json:"account"`
	Invoker bool         `json:"invoker,omitempty"`
}

// DefinerData is one recorded definer, for Data.
type DefinerData struct {
	DefinedObject
	Definer
}

// Definer returns the recorded definer of o.
func (s *Snapshot) Definer(o DefinedObject) (Definer, bool) {
	d, ok := s.definers[o.key()]
	return d, ok
}

func (tx *Tx) ownDefiners() {
	if !tx.definersOwned {
		tx.definers = maps.Clone(tx.definers)
		if tx.definers == nil {
			tx.definers = map[DefinedObject]Definer{}
		}
		tx.definersOwned = true
	}
}

// defines reports whether a is the definer of some object, and of what
// kind. MySQL 8.0.22+ refuses to drop such an account (4006) unless the
// dropper has SET_USER_ID; authplug refuses it always: the object would
// otherwise run as whichever account is created later under the name.
func (tx *Tx) defines(a priv.Account) (kind string, ok bool) {
	for o, d := range tx.definers {
		if d.Account == a {
			switch o.Kind {
			case KindView:
				return "a view", true
			case KindTrigger:
				return "a trigger", true
			}
			return "a stored routine", true
		}
	}
	return "", false
}

// SetDefiner records o's definer, replacing any earlier record.
func (tx *Tx) SetDefiner(o DefinedObject, d Definer) {
	tx.ownDefiners()
	tx.definers[o.key()] = d
}

// DropDefiner forgets o's definer.
func (tx *Tx) DropDefiner(o DefinedObject) {
	tx.ownDefiners()
	delete(tx.definers, o.key())
}

// DropDefinersIn forgets the definers of every object in database db.
func (tx *Tx) DropDefinersIn(db string) {
	tx.ownDefiners()
	for o := range tx.definers {
		if o.DB == strings.ToLower(db) {
			delete(tx.definers, o)
		}
	}
}

func (s *Snapshot) definerData() []DefinerData {
	out := make([]DefinerData, 0, len(s.definers))
	for o, d := range s.definers {
		out = append(out, DefinerData{DefinedObject: o, Definer: d})
	}
	slices.SortFunc(out, func(a, b DefinerData) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.DB, b.DB), cmp.Compare(a.Name, b.Name))
	})
	return out
}
