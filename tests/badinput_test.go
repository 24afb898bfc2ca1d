package tests

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func packet(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

// handshakeResponse is a HandshakeResponse41 with the given auth data and
// client plugin name.
func handshakeResponse(user string, auth []byte, plugin string) []byte {
	const caps = 0x200 | 0x8000 | 0x80000 | 0x200000 | 1 // protocol41, secure conn, plugin auth, lenenc data, long password
	p := binary.LittleEndian.AppendUint32(nil, caps)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 33)
	p = append(p, make([]byte, 23)...)
	p = append(append(p, user...), 0)
	switch {
	case len(auth) < 251:
		p = append(p, byte(len(auth)))
	case len(auth) < 1<<16:
		p = append(p, 0xfc, byte(len(auth)), byte(len(auth)>>8))
	default:
		p = append(p, 0xfd, byte(len(auth)), byte(len(auth)>>8), byte(len(auth)>>16))
	}
	p = append(p, auth...)
	return append(append(p, plugin...), 0)
}

// dialHandshake connects and reads the server's greeting.
func dialHandshake(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	// A bound for the test itself, well past the server's handshake deadline.
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	var h [4]byte
	_, err = io.ReadFull(c, h[:])
	require.NoError(t, err)
	greeting := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	_, err = io.ReadFull(c, greeting)
	require.NoError(t, err)
	require.Equal(t, byte(10), greeting[0], "protocol version 10")
	return c
}

// serverEnds reads until the server closes the connection, returning what
// it sent first; it fails if the test's own deadline passes first.
func serverEnds(t *testing.T, c net.Conn) []byte {
	t.Helper()
	b, err := io.ReadAll(c)
	var ne net.Error
	if err != nil && !(assert.ErrorAs(t, err, &ne) && !ne.Timeout()) {
		t.Fatalf("server did not close the connection: %v", err)
	}
	return b
}

func TestHostileHandshakes(t *testing.T) {
	e := startWith(t, nil, "", 300*time.Millisecond)

	cases := []struct {
		name string
		send []byte
	}{
		{"silent client", nil},
		{"truncated packet", []byte{100, 0, 0, 1, 'x', 'y'}},
		{"garbage", packet(1, bytes.Repeat([]byte{0xff}, 64))},
		{"response shorter than its fixed part", packet(1, []byte{1, 2, 3})},
		{"oversized auth data", packet(1, handshakeResponse("root", bytes.Repeat([]byte{'A'}, 1<<20), "caching_sha2_password"))},
		{"unknown client plugin, then silence", packet(1, handshakeResponse("root", []byte{1, 2, 3}, "evil_plugin"))},
		{"unknown user, wrong scramble length", packet(1, handshakeResponse("ghost", []byte{1, 2, 3}, "caching_sha2_password"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := dialHandshake(t, e.addr)
			if c.send != nil {
				// The server may hang up before it has read all of a large
				// packet (it refuses one by its header): that is the
				// outcome tested, not a failure of the write.
				_, err := conn.Write(c.send)
				if err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
					require.NoError(t, err)
				}
			}
			start := time.Now()
			serverEnds(t, conn)
			assert.Less(t, time.Since(start), 5*time.Second, "bounded by the handshake deadline")
		})
	}
	// The server is still serving.
	e.conn("root", rootPassword, withTLS)
}
