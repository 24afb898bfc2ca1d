package server

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// listen opens the server's TCP listener and, if socket is set, its Unix
// socket. go-mysql-server's own listener sets SO_REUSEPORT, so a second
// server on a port in use would start and take half the connections;
// net.Listen does not, and the second bind fails with EADDRINUSE.
func listen(addr, socket string) (net.Listener, error) {
	tl, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("listening on %s: the address is already in use (is another server running on it?): %w", addr, err)
		}
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	if socket == "" {
		return tl, nil
	}
	ul, err := listenUnix(socket)
	if err != nil {
		tl.Close()
		return nil, err
	}
	return newMultiListener(tl, ul), nil
}

// listenUnix listens on a Unix socket, first removing a socket file that a
// crashed server left behind. A socket someone still answers on is theirs,
// and any other kind of file is never removed.
func listenUnix(path string) (net.Listener, error) {
	l, err := net.Listen("unix", path)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		if err != nil {
			return nil, fmt.Errorf("listening on socket %s: %w", path, err)
		}
		return l, nil
	}
	fi, serr := os.Lstat(path)
	if serr != nil {
		return nil, fmt.Errorf("listening on socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("listening on socket %s: the path exists and is not a socket; remove it or choose another --socket", path)
	}
	c, derr := net.DialTimeout("unix", path, time.Second)
	if derr == nil {
		c.Close()
		return nil, fmt.Errorf("listening on socket %s: another server is listening on it", path)
	}
	if !errors.Is(derr, syscall.ECONNREFUSED) {
		return nil, fmt.Errorf("listening on socket %s: it exists and cannot be checked for a listener: %w", path, derr)
	}
	// Nothing listens: the file is a dead server's.
	if err := os.Remove(path); err != nil {
		return nil, fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	l, err = net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on socket %s: %w", path, err)
	}
	return l, nil
}

// multiListener accepts from several listeners as one: vitess takes a
// single net.Listener. Its address is the first listener's.
type multiListener struct {
	ls    []net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newMultiListener(ls ...net.Listener) *multiListener {
	m := &multiListener{ls: ls, conns: make(chan net.Conn), done: make(chan struct{})}
	for _, l := range ls {
		m.wg.Add(1)
		go m.accept(l)
	}
	return m
}

func (m *multiListener) accept(l net.Listener) {
	defer m.wg.Done()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like pass; vitess stops
			// serving at the first error it sees, so it is not shown one.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-m.done:
				return
			}
			continue
		}
		backoff = 0
		select {
		case m.conns <- c:
		case <-m.done:
			c.Close()
			return
		}
	}
}

func (m *multiListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case <-m.done:
		return nil, net.ErrClosed
	}
}

// Close closes every listener and waits for their accept loops to end.
func (m *multiListener) Close() error {
	var errs []error
	m.once.Do(func() {
		close(m.done)
		for _, l := range m.ls {
			if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
		m.wg.Wait()
	})
	return errors.Join(errs...)
}

func (m *multiListener) Addr() net.Addr { return m.ls[0].Addr() }
