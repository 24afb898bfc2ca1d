//go:build !unix

package server

// dirLock is a no-op where flock is missing (Windows, wasm): there two
// servers on one data directory are not detected, and running them is the
// operator's mistake to avoid. Nor is the directory's ownership checked:
// Unix mode bits, which lock.go reads, mean nothing there, and the ACLs
// that do are the operator's to set.
type dirLock struct{}

func lockDataDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() error { return nil }
