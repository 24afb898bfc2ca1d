package extension

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// ConnEventTp is a connection event.
type ConnEventTp uint8

// Connection events, in the order a connection can see them.
const (
	ConnConnected ConnEventTp = iota
	ConnHandshakeAccepted
	ConnHandshakeRejected
	ConnReset
	ConnDisconnected
)

func (t ConnEventTp) String() string {
	switch t {
	case ConnConnected:
		return "connected"
	case ConnHandshakeAccepted:
		return "handshake_accepted"
	case ConnHandshakeRejected:
		return "handshake_rejected"
	case ConnReset:
		return "reset"
	case ConnDisconnected:
		return "disconnected"
	}
	return "unknown"
}

// ConnEventInfo describes a connection event.
type ConnEventInfo struct {
	ConnectionID uint64
	// User is the name the client sent; empty before the handshake.
	User string
	// ClientHost is the client's host as messages show it.
	ClientHost string
	RemoteAddr string
	// Account is the account the login matched (accepted logins only).
	Account   priv.Account
	Plugin    string
	ConnState *tls.ConnectionState
	// PluginState is what the plugin's AuthenticateUser returned.
	PluginState any
	// Reason is why a handshake was rejected. It is for logs and audit,
	// never for the client.
	Reason error
}

// StmtEventTp is a statement event.
type StmtEventTp uint8

// Statement events.
const (
	StmtSuccess StmtEventTp = iota
	StmtError
)

func (t StmtEventTp) String() string {
	if t == StmtSuccess {
		return "success"
	}
	return "error"
}

// TableRef names a table a statement used.
type TableRef struct {
	DB    string
	Table string
}

// StmtEventInfo describes a finished statement.
type StmtEventInfo struct {
	ConnectionID uint64
	// User and ClientHost are the login (USER()).
	User       string
	ClientHost string
	// Account is the authenticated account; EffectiveAccount is the account
	// the statement ran as, which differs while impersonating.
	Account          priv.Account
	EffectiveAccount priv.Account
	ActiveRoles      []priv.Account
	CurrentDB        string
	// Text is the statement as the client sent it, with secrets (passwords
	// in CREATE/ALTER USER, SET PASSWORD) redacted by the host.
	Text         string
	Tables       []TableRef
	AffectedRows uint64
	// Err is nil on success; a *mysqlerr.Error with what the client got
	// when the statement failed with a MySQL error.
	Err         error
	PluginState any
}

// SessionHandler receives one session's events. Either function may be nil.
type SessionHandler struct {
	OnConnectionEvent func(ConnEventTp, *ConnEventInfo)
	OnStmtEvent       func(StmtEventTp, *StmtEventInfo)
}

type namedHandler struct {
	extension string
	*SessionHandler
}

// SessionExtensions fans one session's events out to every extension's
// handler. A handler that panics is logged and skipped: an audit hook must
// not take a connection down.
type SessionExtensions struct {
	handlers []namedHandler
	// failed names the extension whose handler factory panicked: that
	// session would go unobserved (unaudited), so it must not log in.
	failed string
}

// Err is nil unless an extension could not make its handler for this
// session; the host then refuses the login (fail closed: a session its
// audit extension does not see must not run). The error is
// mysqlerr.PluginFailed's neutral 1105; the panic is in the log.
func (s *SessionExtensions) Err() error {
	if s.failed == "" {
		return nil
	}
	return fmt.Errorf("extension %q: session handler factory panicked: %w", s.failed, mysqlerr.PluginFailed())
}

// HasStmtEventHandlers reports whether statement events have listeners, so
// a host can skip building StmtEventInfo.
func (s *SessionExtensions) HasStmtEventHandlers() bool {
	for _, h := range s.handlers {
		if h.OnStmtEvent != nil {
			return true
		}
	}
	return false
}

// HasConnEventHandlers reports whether connection events have listeners, so
// a host can skip building ConnEventInfo.
func (s *SessionExtensions) HasConnEventHandlers() bool {
	for _, h := range s.handlers {
		if h.OnConnectionEvent != nil {
			return true
		}
	}
	return false
}

// OnConnectionEvent delivers a connection event.
func (s *SessionExtensions) OnConnectionEvent(tp ConnEventTp, info *ConnEventInfo) {
	for _, h := range s.handlers {
		if h.OnConnectionEvent != nil {
			guard(h.extension, func() { h.OnConnectionEvent(tp, info) })
		}
	}
}

// OnStmtEvent delivers a statement event.
func (s *SessionExtensions) OnStmtEvent(tp StmtEventTp, info *StmtEventInfo) {
	for _, h := range s.handlers {
		if h.OnStmtEvent != nil {
			guard(h.extension, func() { h.OnStmtEvent(tp, info) })
		}
	}
}

// guard runs f, an event handler of extension, logging a panic with its
// stack: the event's statement or connection goes on as if the handler had
// returned.
func guard(extension string, f func()) {
	guardHook(extension, "event handler", f)
}

// guardHook runs f, extension's hook, and reports whether it returned:
// a panic is logged with its stack and goes no further.
func guardHook(extension, hook string, f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("extension hook panicked", "extension", extension, "hook", hook,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	f()
	return true
}
