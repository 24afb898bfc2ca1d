//go:build unix

package grantstore

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A FIFO is refused at once, not after a writer comes: the start must not
// hang on it.
func TestReadDSNFileRefusesAFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dsn")
	require.NoError(t, syscall.Mkfifo(p, 0o600))
	done := make(chan error, 1)
	go func() {
		_, err := ReadDSNFile(p)
		done <- err
	}()
	select {
	case err := <-done:
		assert.ErrorContains(t, err, "not a regular file")
	case <-time.After(10 * time.Second):
		// A writer ends the blocked open, so that the goroutine ends.
		if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		<-done
		t.Fatal("ReadDSNFile blocked on a FIFO instead of refusing it")
	}
}

// A file that another user owns is refused, even private to that user and
// through a symlink: its owner would choose the grant store of a root
// front end.
func TestReadDSNFileRefusesAnotherUsersFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a file of another user")
	}
	const nobody = 65534
	dir := t.TempDir()
	p := filepath.Join(dir, "dsn")
	require.NoError(t, os.WriteFile(p, []byte("attacker:pw@tcp(203.0.113.9:3306)/evil"), 0o600))
	require.NoError(t, os.Chown(p, nobody, nobody))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(p, link))
	for _, path := range []string{p, link} {
		dsn, err := ReadDSNFile(path)
		require.Error(t, err, "accepted %s, owned by uid %d: %q", path, nobody, dsn)
		assert.ErrorContains(t, err, "owned by uid 65534")
		assert.NotContains(t, err.Error(), "attacker:pw")
	}

	// Root's own file, and one through a symlink that another user owns,
	// are root's to trust.
	require.NoError(t, os.Chown(p, 0, 0))
	require.NoError(t, os.Lchown(link, nobody, nobody))
	for _, path := range []string{p, link} {
		_, err := ReadDSNFile(path)
		assert.NoError(t, err, path)
	}
}
