package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/privilege"
)

// authServer is vitess' AuthServer answered by privilege.Manager: each
// account's plugin decides which method the client is switched to, and the
// Manager decides the login.
type authServer struct {
	s       *Server
	methods []mysql.AuthMethod
}

func newAuthServer(s *Server) *authServer {
	a := &authServer{s: s}
	// The default plugin first: vitess switches a client it cannot match to
	// the first method that handles the user.
	names := []string{s.cfg.DefaultAuthPlugin}
	for _, n := range []string{authplugin.CachingSHA2PasswordName, authplugin.NativePasswordName, authplugin.SHA256PasswordName, authplugin.ClearPasswordName} {
		if n != s.cfg.DefaultAuthPlugin {
			names = append(names, n)
		}
	}
	for _, name := range names {
		a.methods = append(a.methods, &authMethod{s: s, name: mysql.AuthMethodDescription(name)})
	}
	return a
}

func (a *authServer) AuthMethods() []mysql.AuthMethod { return a.methods }

func (a *authServer) DefaultAuthMethodDescription() mysql.AuthMethodDescription {
	return mysql.AuthMethodDescription(a.s.cfg.DefaultAuthPlugin)
}

// authMethod is one client-side plugin. It handles a user when the user's
// account wants that client plugin; unknown users get the default one, so
// the handshake looks the same whether the account exists or not.
type authMethod struct {
	s    *Server
	name mysql.AuthMethodDescription
}

func (m *authMethod) Name() mysql.AuthMethodDescription { return m.name }

// A user name longer than any account's is handled by no method: vitess
// then ends the handshake with its own error (2012), naming nobody, where
// a 1045 from HandleAuthPluginData would have vitess log the whole name.
func (m *authMethod) HandleUser(c *mysql.Conn, user string) bool {
	if utf8.RuneCountInString(user) > mysqlerr.MaxUserNameLen {
		return false
	}
	return m.s.mgr.ClientPluginFor(user, c.RemoteAddr(), c.TLSEnabled()) == string(m.name)
}

// AllowClearTextWithoutTLS is true: vitess would refuse cleartext on a Unix
// socket too; HandleUser already keeps cleartext off plain TCP.
func (m *authMethod) AllowClearTextWithoutTLS() bool { return true }

func (m *authMethod) AuthPluginData() ([]byte, error) {
	salt, err := mysql.NewSalt()
	if err != nil {
		return nil, err
	}
	return append(salt, 0), nil
}

func (m *authMethod) HandleAuthPluginData(c *mysql.Conn, user string, serverData, clientData []byte, addr net.Addr) (mysql.Getter, error) {
	start := time.Now()
	g, err := m.login(c, user, serverData, clientData, addr)
	m.s.observeLogin(c, err, time.Since(start))
	return g, toSQLError(err)
}

// login is HandleAuthPluginData, returning authplug's errors.
func (m *authMethod) login(c *mysql.Conn, user string, serverData, clientData []byte, addr net.Addr) (mysql.Getter, error) {
	salt := serverData
	if n := len(salt); n > 0 && salt[n-1] == 0 {
		salt = salt[:n-1]
	}
	data := clientData
	if m.name == mysql.MysqlClearPassword {
		// The cleartext response is NUL-terminated.
		if n := len(data); n > 0 && data[n-1] == 0 {
			data = data[:n-1]
		}
	}
	var state *tls.ConnectionState
	if tc, ok := c.Conn.(*tls.Conn); ok {
		cs := tc.ConnectionState()
		state = &cs
	}
	// The handshake's own deadline, from accept: the plugin's work stops
	// with it, as does any throttle delay.
	ctx := &loginContext{deadline: m.s.handshakeDeadline(c.Conn)}
	defer ctx.cancel()
	// A fenced front end judges no credentials: its grants may be stale
	// (a dropped account, a changed password), and a login judged on them
	// would tell the client more than the 1047 that a fenced statement
	// gets. Everyone gets that 1047, whatever the account, so it tells
	// nothing about accounts.
	if err := m.s.mgr.Fence(); err != nil {
		m.s.connEvent(c, mysqlerr.BoundedName(user), m.s.events(c.ConnectionID), nil, err)
		return nil, err
	}
	if d, err := m.s.throttle.Wait(ctx, addr, user); err != nil {
		// The same 1045 as a wrong password: a refusal must not say the
		// address is being throttled.
		le := privilege.ThrottledLoginError(user, addr, len(data) > 0, err)
		m.s.log.Warn("login refused", "user", mysqlerr.BoundedName(user), "client", addr.String(), "reason", le.Reason)
		m.s.connEvent(c, mysqlerr.BoundedName(user), m.s.events(c.ConnectionID), nil, errors.New(le.Reason))
		return nil, le
	} else if d > 0 {
		m.s.log.Warn("login delayed after consecutive failed logins from the client", "user", mysqlerr.BoundedName(user), "client", addr.String(), "delay", d)
	}
	wc := &wireConn{c: c}
	sess, err := m.s.mgr.ConnectionVerification(ctx, privilege.LoginRequest{
		User:         user,
		RemoteAddr:   addr,
		ConnState:    state,
		AuthData:     data,
		Salt:         salt,
		AuthConn:     wc,
		ClientPlugin: string(m.name),
	})
	if err == nil {
		loggedIn(&c.Conn)
	}
	wc.done()
	if err != nil {
		m.s.throttle.Failed(addr, user)
		reason := err
		var le *privilege.LoginError
		if errors.As(err, &le) {
			reason = errors.New(le.Reason)
		}
		m.s.connEvent(c, mysqlerr.BoundedName(user), m.s.events(c.ConnectionID), nil, reason)
		return nil, err
	}
	// The credentials were right, whatever the limits say next.
	m.s.throttle.Succeeded(addr, user)
	// Fenced during the exchange: refused as its first statement would be.
	if err := sess.Fence(); err != nil {
		m.s.connEvent(c, mysqlerr.BoundedName(user), m.s.events(c.ConnectionID), nil, err)
		return nil, err
	}
	// An extension that could not make its handlers for this session
	// (its factory panicked) would not see it: refused, fail closed.
	if err := m.s.events(c.ConnectionID).Err(); err != nil {
		m.s.log.Error("login refused: an extension has no handler for the session", "user", mysqlerr.BoundedName(user), "error", err)
		m.s.connEvent(c, mysqlerr.BoundedName(user), m.s.events(c.ConnectionID), nil, err)
		return nil, mysqlerr.PluginFailed()
	}
	release, err := m.s.admitSession(sess)
	if err != nil {
		m.s.connEvent(c, mysqlerr.BoundedName(user), m.s.events(c.ConnectionID), nil, err)
		return nil, err
	}
	// Authenticated: the handshake deadline no longer applies.
	if err := c.Conn.SetDeadline(time.Time{}); err != nil {
		release()
		return nil, err
	}
	cn := m.s.newConn(c, sess)
	cn.release = release
	m.s.sessions.Store(c.ConnectionID, cn)
	m.s.obs.SessionOpened()
	return sql.MysqlConnectionUser{User: user, Host: sess.ClientHost()}, nil
}

// loginContext is the context of a login's work, which ends at the
// handshake's deadline: context.WithDeadline's, without arming a timer for
// every login. The password plugins only poll Err, and the throttle and
// the wire read the deadline itself; the timer is armed the first time
// someone asks for Done (a plugin waiting on I/O, a derived context).
type loginContext struct {
	deadline time.Time
	mu       sync.Mutex
	done     chan struct{} // made by Done
	timer    *time.Timer   // closes done at the deadline
	err      error
}

func (c *loginContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *loginContext) Value(any) any               { return nil }

func (c *loginContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		switch {
		case c.err != nil:
			close(c.done)
		case c.expiredLocked() == nil:
			c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
		}
	}
	return c.done
}

func (c *loginContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expiredLocked()
}

// expiredLocked ends the context if its deadline has passed, and returns
// its error.
func (c *loginContext) expiredLocked() error {
	if c.err == nil && !time.Now().Before(c.deadline) {
		c.endLocked(context.DeadlineExceeded)
	}
	return c.err
}

// cancel ends the context once the login is over.
func (c *loginContext) cancel() { c.end(context.Canceled) }

func (c *loginContext) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked(err)
}

func (c *loginContext) endLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
}
