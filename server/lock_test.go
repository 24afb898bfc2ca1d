//go:build unix

package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockDataDir(t *testing.T) {
	dir := privateDir(t)
	l, err := lockDataDir(dir)
	require.NoError(t, err)
	_, err = lockDataDir(dir)
	assert.ErrorContains(t, err, "in use by another authplug process (pid")
	require.NoError(t, l.release())

	l, err = lockDataDir(dir)
	require.NoError(t, err, "released")
	require.NoError(t, l.release())
}

// A symbolic link planted as the lock file is refused, and what it points
// to is left as it was.
func TestLockFileSymlinkIsRefused(t *testing.T) {
	dir := privateDir(t)
	target := filepath.Join(t.TempDir(), "precious")
	require.NoError(t, os.WriteFile(target, []byte("keep me"), 0o600))
	require.NoError(t, os.Symlink(target, filepath.Join(dir, lockFile)))

	_, err := lockDataDir(dir)
	require.Error(t, err)
	assert.ErrorContains(t, err, "symbolic link")
	assert.ErrorContains(t, err, filepath.Join(dir, lockFile))
	b, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "keep me", string(b), "the link's target is untouched")
}

func TestLockFileMustBeARegularFile(t *testing.T) {
	dir := privateDir(t)
	require.NoError(t, os.Mkdir(filepath.Join(dir, lockFile), 0o700))
	_, err := lockDataDir(dir)
	assert.Error(t, err)
}

// A data directory others may write to is refused before anything in it
// is opened, with the fix in the message.
func TestDataDirWritableByOthersIsRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		dir := privateDir(t)
		require.NoError(t, os.Chmod(dir, mode))
		_, err := lockDataDir(dir)
		require.Error(t, err, "%04o", mode)
		assert.ErrorContains(t, err, "writable by other users")
		assert.ErrorContains(t, err, "chmod 700 "+dir)
		assert.NoFileExists(t, filepath.Join(dir, lockFile), "refused before the lock file is made")
	}
	for _, mode := range []os.FileMode{0o700, 0o750, 0o755} {
		dir := privateDir(t)
		require.NoError(t, os.Chmod(dir, mode))
		l, err := lockDataDir(dir)
		require.NoError(t, err, "%04o: readable is fine", mode)
		require.NoError(t, l.release())
	}
}

func TestDataDirOfAnotherUserIsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a directory to another user needs root")
	}
	dir := privateDir(t)
	require.NoError(t, os.Chown(dir, 4242, 4242))
	_, err := lockDataDir(dir)
	require.Error(t, err)
	assert.ErrorContains(t, err, "owned by uid 4242")
}

// privateDir is a new directory of the test's, mode 0700 whatever the
// umask.
func privateDir(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.Mkdir(dir, 0o700))
	return dir
}
