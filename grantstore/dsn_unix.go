//go:build unix

package grantstore

import (
	"fmt"
	"os"
	"syscall"
)

func openNonblocking(path string) (*os.File, error) {
	// Reading a regular file ignores O_NONBLOCK.
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// checkOwner refuses fi unless this process's effective user or root owns
// it, as ssh does with its keys.
func checkOwner(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("grants DSN file %s: cannot tell who owns it", path)
	}
	euid := os.Geteuid()
	if st.Uid != uint32(euid) && st.Uid != 0 {
		return fmt.Errorf("grants DSN file %s is owned by uid %d, neither this process's user (uid %d) nor root: its owner could choose the grant store; make it this user's with chown %d %s",
			path, st.Uid, euid, euid, path)
	}
	return nil
}
