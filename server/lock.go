//go:build unix

package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is held, with an exclusive flock, by the one process that owns
// a data directory: two servers on one directory would each save their own
// accounts over the other's.
const lockFile = "authplug.lock"

// dirLock is a held data-directory lock.
type dirLock struct{ f *os.File }

// lockDataDir takes the data directory's lock, or says who holds it. The
// kernel drops a flock when its holder exits, so a crashed server leaves
// nothing stale behind; the file itself stays.
func lockDataDir(dir string) (*dirLock, error) {
	if err := checkDataDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lockFile)
	// O_NOFOLLOW: a symbolic link planted as the lock file would have the
	// truncation below empty whatever it points to. (os.OpenFile sets
	// O_CLOEXEC itself; it is said here so that nobody drops it.)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("data directory %s: %s is a symbolic link, which authplug does not follow; remove it", dir, path)
		}
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("data directory %s: %s is not a regular file; remove it", dir, path)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			holder := "another authplug process"
			if b, rerr := os.ReadFile(path); rerr == nil {
				if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
					holder = fmt.Sprintf("another authplug process (pid %d)", pid)
				}
			}
			// EWOULDBLOCK's own text would add nothing but noise.
			return nil, fmt.Errorf("data directory %s is in use by %s; stop it first, or use another --data-dir", dir, holder)
		}
		return nil, fmt.Errorf("locking data directory %s: %w", dir, err)
	}
	// The pid is only for the message above; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// release gives the directory up. Closing the file drops the flock.
func (l *dirLock) release() error {
	if l == nil {
		return nil
	}
	return l.f.Close()
}

// checkDataDir refuses a data directory another user could change: one
// writable by group or others, or owned by another user, could have files
// planted in it (a symbolic link where the grants or keys are written), as
// mysqld refuses a world-writable option file.
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("data directory %s is writable by other users (mode %04o); make it the server's alone: chmod 700 %s", dir, perm, dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("data directory %s is owned by uid %d, not by the server's user (uid %d); chown it to the server's user and chmod 700 %s", dir, st.Uid, os.Geteuid(), dir)
	}
	return nil
}
