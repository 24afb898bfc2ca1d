package server

import (
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/variables"
)

// sessionStatus is the engine's status-variable registry with a cheaper
// NewSessionMap. Every session the engine makes starts with its own copy
// of the ~300 session status counters; the engine builds that map by
// walking all ~700 status variables, sized for all of them, with three
// allocations per counter: a sixth of the server's CPU for a whole login
// (go run ./tests/bench -logins-only -cpuprofile). Here the map is sized for what it
// holds and its values point into slices allocated once per session
// (BenchmarkSessionStatus: a third of the time, 7 allocations instead of
// ~600). The result is the engine's map, value for value: each session has
// its own counters, starting at the registry's defaults.
type sessionStatus struct {
	sql.StatusVariableRegistry // the engine's own: global values and everything else

	counters []statusCounter
	others   []statusOther
}

type statusCounter struct {
	name  string
	v     sql.StatusVariable
	start uint64
}

type statusOther struct {
	name string
	val  sql.ImmutableStatusVarValue
}

// newSessionStatus reads the session map of next once, as the model of
// every later one. It returns nil when a value is of a kind it does not
// know how to copy: then the engine's registry stays.
func newSessionStatus(next sql.StatusVariableRegistry) *sessionStatus {
	s := &sessionStatus{StatusVariableRegistry: next}
	for name, v := range next.NewSessionMap() {
		switch v := v.(type) {
		case *sql.MutableStatusVarValue:
			s.counters = append(s.counters, statusCounter{name: name, v: v.Var, start: v.Val.Load()})
		case *sql.ImmutableStatusVarValue:
			s.others = append(s.others, statusOther{name: name, val: *v})
		default:
			return nil
		}
	}
	return s
}

func (s *sessionStatus) NewSessionMap() map[string]sql.StatusVarValue {
	m := make(map[string]sql.StatusVarValue, len(s.counters)+len(s.others))
	nums := make([]atomic.Uint64, len(s.counters))
	counters := make([]sql.MutableStatusVarValue, len(s.counters))
	for i, c := range s.counters {
		nums[i].Store(c.start)
		counters[i] = sql.MutableStatusVarValue{Var: c.v, Val: &nums[i]}
		m[c.name] = &counters[i]
	}
	others := make([]sql.ImmutableStatusVarValue, len(s.others))
	for i, o := range s.others {
		others[i] = o.val
		m[o.name] = &others[i]
	}
	return m
}

// cheapSessionStatus puts sessionStatus in front of the engine's registry,
// once per process and before the first engine of any server is made:
// sql.StatusVariables is a process-wide variable every session reads, so
// it is written only while nothing can be reading it. (The system
// variables' session map is one plain copy already: a copy of a model map
// in its place, tried, was not measurably faster.)
func cheapSessionStatus() {
	statusOnce.Do(func() {
		variables.InitStatusVariables()
		if s := newSessionStatus(sql.StatusVariables); s != nil {
			sql.StatusVariables = s
		}
	})
}

var statusOnce sync.Once
