package server

import (
	"errors"
	"net"
	"sync/atomic"
)

// Before a client has logged in, what it may make the server hold is
// bounded here: vitess reads a packet of any announced length (up to 16
// MB, joining longer ones without end) and sets the buffer aside as soon
// as it has read the header. An unauthenticated client could otherwise
// hold gigabytes for the length of the handshake deadline, on every
// connection max_connections lets in. MySQL bounds every packet by
// max_allowed_packet; the handshake needs far less.
const (
	// maxHandshakePacket bounds one packet of the handshake: the
	// handshake response (with connection attributes), an auth-switch or
	// AuthMoreData answer (an RSA blob, a token).
	maxHandshakePacket = 256 << 10
	// maxHandshakeBytes bounds everything a client sends before its login
	// succeeds, TLS records included.
	maxHandshakeBytes = 1 << 20
)

const clientSSL = 0x800 // CLIENT_SSL in the handshake response's flags

var errHandshakeTooLarge = errors.New("the client sent more than a login needs before logging in")

// handshakeConn is an accepted connection until its login succeeds. Every
// byte read counts against maxHandshakeBytes; while the stream is plain
// MySQL framing (before any TLS), each packet header is checked against
// maxHandshakePacket before vitess sees it. Once the client is in
// (authenticated), reads pass straight through.
type handshakeConn struct {
	net.Conn
	authenticated atomic.Bool
	read          int64

	framing bool    // the stream is still plain MySQL packets
	hdr     [4]byte // the header being read
	hdrN    int
	left    int    // payload bytes of the current packet still to come
	packets int    // packets whose header has been read
	flags   []byte // the first packet's first payload bytes: its flags
}

func newHandshakeConn(c net.Conn) *handshakeConn { return &handshakeConn{Conn: c, framing: true} }

func (c *handshakeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.authenticated.Load() || n == 0 {
		return n, err
	}
	if c.read += int64(n); c.read > maxHandshakeBytes {
		return 0, errHandshakeTooLarge
	}
	if c.framing {
		if ferr := c.frame(p[:n]); ferr != nil {
			return 0, ferr
		}
	}
	return n, err
}

// frame follows the packet framing through b, refusing a packet longer
// than maxHandshakePacket. It stops at the first packet if that one asks
// for TLS: what follows is TLS records, which the byte count still bounds.
func (c *handshakeConn) frame(b []byte) error {
	for len(b) > 0 {
		if c.left == 0 {
			k := copy(c.hdr[c.hdrN:], b)
			c.hdrN += k
			b = b[k:]
			if c.hdrN < 4 {
				return nil
			}
			c.hdrN = 0
			c.left = int(c.hdr[0]) | int(c.hdr[1])<<8 | int(c.hdr[2])<<16
			c.packets++
			if c.left > maxHandshakePacket {
				return errHandshakeTooLarge
			}
			continue
		}
		k := min(c.left, len(b))
		if c.packets == 1 && len(c.flags) < 4 {
			c.flags = append(c.flags, b[:min(k, 4-len(c.flags))]...)
		}
		c.left -= k
		b = b[k:]
		if c.left == 0 && c.packets == 1 && len(c.flags) >= 2 && (int(c.flags[0])|int(c.flags[1])<<8)&clientSSL != 0 {
			c.framing = false // TLS from here on
			return nil
		}
	}
	return nil
}

// loggedIn lifts the limits of conn (vitess' Conn field), and gives vitess
// and the engine the accepted connection itself back where there is no
// TLS, as the engine looks for a *net.TCPConn to notice clients that went
// away.
func loggedIn(conn *net.Conn) {
	if hc, ok := (*conn).(*handshakeConn); ok {
		hc.authenticated.Store(true)
		*conn = hc.Conn
		return
	}
	if tc, ok := (*conn).(interface{ NetConn() net.Conn }); ok {
		if hc, ok := tc.NetConn().(*handshakeConn); ok {
			hc.authenticated.Store(true)
		}
	}
}
