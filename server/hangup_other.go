//go:build !linux

package server

import "syscall"

// hungUp is Linux's only (POLLRDHUP): elsewhere a statement runs to its end.
func hungUp(syscall.Conn) bool { return false }
