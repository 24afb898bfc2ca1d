package grantstore

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadDSNFile(t *testing.T) {
	const dsn = "authplug:s3cret@tcp(127.0.0.1:3306)/grants"
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		require.NoError(t, os.Chmod(p, mode)) // whatever the umask
		return p
	}

	got, err := ReadDSNFile(write("ok", dsn+"\n", 0o600))
	require.NoError(t, err)
	assert.Equal(t, dsn, got, "the trailing newline is not the DSN's")
	got, err = ReadDSNFile(write("owner-only", dsn, 0o400))
	require.NoError(t, err)
	assert.Equal(t, dsn, got)

	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o601} {
		p := write("open", dsn, mode)
		_, err := ReadDSNFile(p)
		require.Error(t, err, "mode %04o", mode)
		assert.ErrorContains(t, err, "chmod 600 "+p)
		assert.NotContains(t, err.Error(), "s3cret")
	}

	for name, content := range map[string]string{"empty": " \n", "two lines": dsn + "\n" + dsn + "\n"} {
		_, err := ReadDSNFile(write("bad", content, 0o600))
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), "s3cret", name)
	}
	_, err = ReadDSNFile(filepath.Join(dir, "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = ReadDSNFile(dir)
	assert.ErrorContains(t, err, "not a regular file")
}

// A sparse file of a terabyte is refused after reading 64 KiB, not read
// whole.
func TestReadDSNFileRefusesAHugeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dsn")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o600)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<40))
	require.NoError(t, f.Close())
	start := time.Now()
	_, err = ReadDSNFile(p)
	assert.ErrorContains(t, err, "longer than")
	assert.Less(t, time.Since(start), 10*time.Second)
}
