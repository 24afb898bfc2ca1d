package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// hungUp reports whether the peer of sc has closed its side: POLLRDHUP is
// set once its FIN has arrived, even behind data not yet read (a TLS
// close_notify). A MySQL client never half-closes a connection it still
// waits on, so that is a client gone.
func hungUp(sc syscall.Conn) bool {
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	_ = rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
		if n, err := unix.Poll(fds, 0); err == nil && n > 0 {
			gone = fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
		}
	})
	return gone
}
