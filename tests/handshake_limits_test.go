package tests

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An unauthenticated client that announces a 16 MB packet is cut off at
// its header: the server does not set 16 MB aside for it until the
// handshake deadline.
func TestOversizedHandshakePacketIsRefused(t *testing.T) {
	e := startWith(t, nil, "", time.Minute) // a deadline far beyond the test
	nc, err := net.Dial("tcp", e.addr)
	require.NoError(t, err)
	defer nc.Close()
	w := &wire{nc: nc}
	_, err = w.read() // the greeting
	require.NoError(t, err)
	_, err = nc.Write([]byte{0xff, 0xff, 0xff, 1})
	require.NoError(t, err)
	require.NoError(t, nc.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err = io.ReadAll(nc)
	require.NoError(t, err, "the server closes the connection (EOF), not the test's deadline")
	// And the server goes on serving.
	_, err = query(e.root(), "SELECT 1")
	require.NoError(t, err)
}
