package server

import (
	"runtime/debug"

	"github.com/authplug/authplug/mysqlerr"
)

// A panic in the engine while it runs a client's command fails that
// command: its error is 1105, the panic and its stack go to the server's
// log, and the connection stays open.
//
// The engine recovers panics in the goroutines it starts to read a
// result's rows (go-mysql-server's Handler.resultForDefaultIter answers
// 1105 "handler caught panic"), but not on the connection's own goroutine,
// where it parses, plans and builds the statement, and reads the rows of a
// result of at most one row. There vitess recovers a panic by closing the
// connection, so that one hostile argument (UNIX_TIMESTAMP(X'FF'), before
// builtins.go) cost the session rather than the statement. Every command
// the engine runs for a client passes through handler, which recovers
// there instead (guarded).
//
// The engine's cleanups run while the panic unwinds (its deferred calls end
// the query in the process list and the session's command), so the session
// is left as after a statement the engine refused.

// errInternal is the error of a command whose run panicked.
func errInternal(p any) *mysqlerr.Error {
	return mysqlerr.Errorf(mysqlerr.ErUnknownError, "internal error: %v", p)
}

// guarded runs f, the engine's work for one command of connection id, and
// turns a panic in it into the command's error.
func (s *Server) guarded(id uint32, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("the engine panicked running a statement; the statement failed with 1105",
				"connection", id, "panic", p, "stack", string(debug.Stack()))
			err = errInternal(p)
		}
	}()
	return f()
}
