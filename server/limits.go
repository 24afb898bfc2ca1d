package server

// The limits of a real server: max_connections (1040), MAX_USER_CONNECTIONS
// and the global max_user_connections (1226, 1203), and the login throttle
// (privilege.LoginThrottle). The connection count is taken when a
// connection is accepted and given back in handler.ConnectionClosed, which
// vitess calls once for every connection it was handed, however the
// connection ends (refused login, handshake deadline, client gone, server
// closed); a connection refused here never reaches vitess.

import (
	"cmp"
	"encoding/binary"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// DefaultMaxConnections is MySQL's default max_connections.
const DefaultMaxConnections = 151

// connLimit counts the open connections, handshakes included, against
// max_connections. As mysqld does, it lets in max+1: the last one is kept
// for an account holding CONNECTION_ADMIN or SUPER, which is known only
// once the login succeeded (admitSession).
type connLimit struct {
	max     int64 // 0: no limit
	open    atomic.Int64
	refused atomic.Int64 // Connection_errors_max_connections
}

// acquire counts a new connection, or refuses it when max+1 are open.
func (l *connLimit) acquire() bool {
	if n := l.open.Add(1); l.max > 0 && n > l.max+1 {
		l.open.Add(-1)
		l.refused.Add(1)
		return false
	}
	return true
}

func (l *connLimit) release() { l.open.Add(-1) }

// full reports whether more than max connections are open, so that only an
// administrator may keep one.
func (l *connLimit) full() bool { return l.max > 0 && l.open.Load() > l.max }

// handshakeListener gives every accepted connection a deadline for its
// handshake, so that a client that stops mid-handshake cannot hold a
// goroutine (HandleAuthPluginData lifts it once the login succeeded), and
// counts it against max_connections.
type handshakeListener struct {
	net.Listener
	s *Server
}

func (l handshakeListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		deadline := time.Now().Add(l.s.cfg.HandshakeTimeout)
		// A connection that cannot be given a deadline is dropped, not
		// reported: an error here would stop vitess' accept loop.
		if err := c.SetDeadline(deadline); err != nil {
			c.Close()
			continue
		}
		if !l.s.conns.acquire() {
			refuseTooMany(c)
			continue
		}
		hc := newHandshakeConn(c)
		hc.deadline = deadline
		return hc, nil
	}
}

// refuseTooMany sends 1040 in place of the server's greeting and closes
// the connection, as mysqld does when max_connections+1 are open. Nothing
// has been negotiated yet, so the error packet is the pre-4.1 form without
// an SQL state; clients report HY000 for it. The write goes to a socket's
// empty send buffer and is bounded by the handshake deadline already set.
func refuseTooMany(c net.Conn) {
	e := mysqlerr.TooManyConnections()
	payload := make([]byte, 0, 3+len(e.Message))
	payload = append(payload, 0xff)
	payload = binary.LittleEndian.AppendUint16(payload, e.Code)
	payload = append(payload, e.Message...)
	pkt := []byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), 0}
	c.Write(append(pkt, payload...))
	c.Close()
}

// handshakeDeadline is when the handshake of c must be over: its accept
// time plus HandshakeTimeout, so that the plugin's work (hashing, token
// checks) stops with the handshake and not a timeout later.
func (s *Server) handshakeDeadline(c net.Conn) time.Time {
	if hc := handshakeOf(c); hc != nil {
		return hc.deadline
	}
	return time.Now().Add(s.cfg.HandshakeTimeout)
}

// connClosed gives back what an accepted connection held.
func (s *Server) connClosed(net.Conn) { s.conns.release() }

// admitSession applies the limits a login meets once its account is known:
// the connection kept for administrators (1040 otherwise), and the
// account's MAX_USER_CONNECTIONS or the global max_user_connections (1226,
// 1203). It returns what gives the account's count back.
func (s *Server) admitSession(sess *privilege.Session) (release func(), err error) {
	if s.conns.full() && !connectionAdmin(sess) {
		s.conns.refused.Add(1)
		return nil, mysqlerr.TooManyConnections()
	}
	return s.userConns.Open(sess)
}

// connectionAdmin reports whether the session may take the connection kept
// for administrators: CONNECTION_ADMIN, or the deprecated SUPER.
func connectionAdmin(sess *privilege.Session) bool {
	return sess.RequestDynamicVerification("CONNECTION_ADMIN", false) == nil ||
		sess.RequestVerification("", "", "", priv.Super) == nil
}

// newThrottle makes the login throttle cfg asks for; nil (off) for a
// negative threshold.
func newThrottle(cfg Config) *privilege.LoginThrottle {
	if cfg.LoginFailureThreshold < 0 {
		return nil
	}
	return privilege.NewLoginThrottle(
		privilege.ThrottleThreshold(cmp.Or(cfg.LoginFailureThreshold, privilege.DefaultLoginFailureThreshold)),
		privilege.ThrottleDelays(cfg.LoginDelayMin, cfg.LoginDelayMax))
}

// limitStatus and limitVariables are the status and system variables of
// the limits, by lower case name, as SHOW STATUS and SHOW VARIABLES show
// them for this server: the engine keeps both registries process-wide.
func (s *Server) limitStatus() map[string]string {
	return map[string]string{
		"threads_connected":                 strconv.FormatInt(s.conns.open.Load(), 10),
		"connection_errors_max_connections": strconv.FormatInt(s.conns.refused.Load(), 10),
	}
}

func (s *Server) limitVariables() map[string]string {
	return map[string]string{
		"max_connections":      strconv.Itoa(s.maxConnections()),
		"max_user_connections": strconv.Itoa(max(s.cfg.MaxUserConnections, 0)),
	}
}

// maxConnections is max_connections as SHOW VARIABLES shows it; with no
// limit, the engine's largest value.
func (s *Server) maxConnections() int {
	if s.conns.max == 0 {
		return 100_000
	}
	return int(s.conns.max)
}

// ConnectionCounts reports the open connections (handshakes included) and
// the sessions counted against accounts' limits: both are back to zero
// once every client has left.
func (s *Server) ConnectionCounts() (connections, accountSessions int) {
	return int(s.conns.open.Load()), s.userConns.Total()
}
