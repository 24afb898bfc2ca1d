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
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
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
