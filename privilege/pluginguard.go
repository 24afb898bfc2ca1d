package privilege

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
)

// A panic in a plugin's code is never let through to the host, where it
// would take the connection, or the server, down. Every call into a
// plugin (its functions, and the optional interfaces of its session state)
// recovers: the panic is logged once, with the plugin's name and the
// stack, and the request it was asked about fails with
// mysqlerr.PluginFailed (1105, with a neutral text) or, for a login, with
// the usual 1045. A Verify* that panics has refused: fail closed.

// panicError is the error of a request whose plugin panicked. It unwraps
// to mysqlerr.PluginFailed, which is all its text says; the plugin, the
// hook, the panic and the stack are for the server's log.
type panicError struct {
	Plugin string // the plugin's name
	Hook   string // the function that panicked, e.g. "VerifyPrivilege"
	Value  string // the panic's value, withheld if it held the secret
	Stack  []byte // the panicking goroutine's stack
}

func (p *panicError) Error() string { return mysqlerr.PluginFailed().Error() }

func (p *panicError) Unwrap() error { return mysqlerr.PluginFailed() }

// pluginPanic makes the panicError of r, recovered from plugin's hook. It
// must be called in the deferred function that recovered, for the stack.
// secret is the hook's secret input, if any (a password, a token): a panic
// value that contains it is withheld, as a reason that does is (explain).
func pluginPanic(plugin, hook string, r any, secret string) *panicError {
	v := fmt.Sprint(r)
	if len(secret) >= minEchoLen && strings.Contains(v, secret) {
		v = "(withheld: the panic's value contained the secret input)"
	}
	return &panicError{Plugin: plugin, Hook: hook, Value: v, Stack: debug.Stack()}
}

// logPanic logs p, once, at error level.
func logPanic(ctx context.Context, log *slog.Logger, p *panicError) {
	log.LogAttrs(ctx, slog.LevelError, "auth plugin panicked",
		slog.String("plugin", p.Plugin), slog.String("hook", p.Hook),
		slog.String("panic", p.Value), slog.String("stack", string(p.Stack)))
}

// callPlugin calls fn, plugin's hook, and turns a panic into a logged
// panicError.
func callPlugin[T any](log *slog.Logger, hook, plugin string, fn func() T) (out T, err error) {
	defer func() {
		if r := recover(); r != nil {
			p := pluginPanic(plugin, hook, r, "")
			logPanic(context.Background(), log, p)
			err = p
		}
	}()
	return fn(), nil
}

// verify asks f, the session's plugin's VerifyPrivilege or
// VerifyDynamicPrivilege, about req. A panic is a refusal, with the
// panicError as err. It is on every statement's path: no closure, no
// allocation unless the plugin panics.
func (s *Session) verify(hook string, f func(authplugin.AuthorizeRequest) bool, req *authplugin.AuthorizeRequest) (ok bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, s.panicked(hook, r)
		}
	}()
	return f(*req), nil
}

// panicked logs r, recovered from the session's plugin's hook, and returns
// the request's error.
func (s *Session) panicked(hook string, r any) error {
	p := pluginPanic(s.plugin.Name, hook, r, "")
	logPanic(context.Background(), s.m.log, p)
	return p
}

// validateState is the session state's ValidateSession, recovered.
func (s *Session) validateState() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.panicked("ValidateSession", r)
		}
	}()
	return s.validator.ValidateSession()
}

// allowSelfChange is the session state's AllowSelfChange, recovered.
func (s *Session) allowSelfChange(g authplugin.SelfServiceGate, change authplugin.SelfChange) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.panicked("AllowSelfChange", r)
		}
	}()
	return g.AllowSelfChange(change)
}
