package server

import (
	"fmt"
	"sync"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/stretchr/testify/require"
)

// engineStatus is the engine's own registry, behind authplug's.
func engineStatus(t *testing.T) (*sessionStatus, sql.StatusVariableRegistry) {
	t.Helper()
	cheapSessionStatus()
	s, ok := sql.StatusVariables.(*sessionStatus)
	require.True(t, ok, "the registry is %T", sql.StatusVariables)
	return s, s.StatusVariableRegistry
}

func TestSessionStatusIsTheEnginesMap(t *testing.T) {
	s, engine := engineStatus(t)
	want, got := engine.NewSessionMap(), s.NewSessionMap()
	require.Len(t, got, len(want))
	require.Greater(t, len(want), 100, "the engine has a few hundred session status variables")
	for name, w := range want {
		g, ok := got[name]
		require.True(t, ok, name)
		require.IsType(t, w, g, name)
		require.Same(t, w.Variable(), g.Variable(), name)
		require.Equal(t, w.Value(), g.Value(), name)
	}
}

func TestSessionStatusIsEachSessionsOwn(t *testing.T) {
	s, _ := engineStatus(t)
	a, b := s.NewSessionMap(), s.NewSessionMap()
	var counter, other string
	for name, v := range a {
		switch v.(type) {
		case *sql.MutableStatusVarValue:
			counter = name
		case *sql.ImmutableStatusVarValue:
			other = name
		}
	}
	require.NotEmpty(t, counter)
	require.NotEmpty(t, other)

	before := b[counter].Value()
	require.NoError(t, a[counter].Increment(5))
	require.Equal(t, before, b[counter].Value(), "another session's counter moved")
	require.Equal(t, before.(uint64)+5, a[counter].Value())

	require.NoError(t, a[other].Set("changed"))
	require.NotEqual(t, "changed", b[other].Value(), "another session's value changed")
	require.NotEqual(t, "changed", s.NewSessionMap()[other].Value(), "a later session starts from a changed value")
	require.Equal(t, before, s.NewSessionMap()[counter].Value(), "a later session shares a counter")
}

// Sessions are made concurrently, one per connection: under -race, this
// shows the template is only read.
func TestSessionStatusConcurrentSessions(t *testing.T) {
	s, _ := engineStatus(t)
	var wg sync.WaitGroup
	maps := make([]map[string]sql.StatusVarValue, 8)
	for i := range maps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := s.NewSessionMap()
			for _, v := range m {
				if c, ok := v.(*sql.MutableStatusVarValue); ok {
					c.Val.Add(uint64(i))
				}
			}
			maps[i] = m
		}()
	}
	wg.Wait()
	start := make(map[string]uint64)
	for _, c := range s.counters {
		start[c.name] = c.start
	}
	for i, m := range maps {
		for name, v := range m {
			if _, ok := v.(*sql.MutableStatusVarValue); ok {
				require.Equal(t, start[name]+uint64(i), v.Value(), fmt.Sprintf("session %d, %s", i, name))
			}
		}
	}
}

// go test -run '^$' -bench SessionStatus -benchmem ./server/
func BenchmarkSessionStatus(b *testing.B) {
	cheapSessionStatus()
	s := sql.StatusVariables.(*sessionStatus)
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			s.StatusVariableRegistry.NewSessionMap()
		}
	})
	b.Run("authplug", func(b *testing.B) {
		for b.Loop() {
			s.NewSessionMap()
		}
	})
}
