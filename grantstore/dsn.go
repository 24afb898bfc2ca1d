package grantstore

import (
	"fmt"
	"io"
	"strings"
)

// maxDSNFile bounds what ReadDSNFile reads: a DSN is one short line.
const maxDSNFile = 64 << 10

// ReadDSNFile reads the DSN of a shared store (OpenMySQL's form) from the
// file at path: a password on a command line is shown to every user by ps,
// one in a file only to those who may read the file. As ssh does with a
// private key, a file that group or others have any access to is refused:
// it would hide the password no better; so is one that another user than
// this process's or root owns (followed through symlinks): its owner
// could choose the grant store, and with it every account. The file holds
// the DSN alone, on one line; surrounding white space is ignored.
func ReadDSNFile(path string) (string, error) {
	// Opened without blocking: a FIFO's open waits for a writer, and the
	// start would hang before the check below could refuse it.
	f, err := openNonblocking(path)
	if err != nil {
		return "", fmt.Errorf("grants DSN file: %w", err)
	}
	defer f.Close()
	// The open file's mode and owner, not the path's: the path could be
	// swapped in between.
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("grants DSN file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("grants DSN file %s is not a regular file", path)
	}
	if err := checkOwner(path, fi); err != nil {
		return "", err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("grants DSN file %s has mode %04o: group or others may read it, and it holds the store's password; make it private with chmod 600 %s", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxDSNFile+1))
	if err != nil {
		return "", fmt.Errorf("grants DSN file %s: %w", path, err)
	}
	if len(b) > maxDSNFile {
		return "", fmt.Errorf("grants DSN file %s is longer than %d bytes: not a DSN", path, maxDSNFile)
	}
	// Not quoted in the errors below: the text may be a password.
	dsn := strings.TrimSpace(string(b))
	switch {
	case dsn == "":
		return "", fmt.Errorf("grants DSN file %s is empty: it must hold user:pw@tcp(host:port)/dbname", path)
	case strings.ContainsAny(dsn, "\r\n"):
		return "", fmt.Errorf("grants DSN file %s has more than one line: it must hold the DSN alone", path)
	}
	return dsn, nil
}
