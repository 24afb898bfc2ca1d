package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/authplug/authplug/authplugin"
)

// Each compared server runs in a process of its own: this binary again,
// with -serve. Plain go-mysql-server then runs as it does alone, without
// what an authplug server sets for the whole process (the engine keeps its
// variable registries in process-wide variables, and authplug replaces the
// status one), and no server shares its runtime, scheduler or garbage
// collector with the clients or with the server it is compared with.
// Each login case has a pair of processes of its own, so that both sides
// serve the same batches: a process that serves more batches than its
// peer is more often awake when a batch starts, which showed as a tenth
// more logins per second on the same code.
const (
	serveAuthplugNative = "authplug-native" // offering mysql_native_password in the handshake, as go-mysql-server does
	serveAuthplugSHA2   = "authplug-sha2"   // on authplug's default handshake offer, caching_sha2_password
	serveGMSAuth        = "gms-auth"        // go-mysql-server with its own accounts and grants
	serveGMSOff         = "gms-off"         // go-mysql-server checking nothing
)

// serverProcess is a server started by startServer.
type serverProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startServer runs a server of the given kind in its own process, with its
// data in dir; certDir names a directory whose server-cert.pem and
// server-key.pem it serves TLS with (go-mysql-server only: authplug makes
// its own). With profile set, the process writes its CPU profile to
// profile.<name>.
func startServer(ctx context.Context, name, kind, dir, certDir, profile string) (*serverProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"-serve", kind, "-dir", dir}
	if certDir != "" {
		args = append(args, "-cert-dir", certDir)
	}
	if profile != "" {
		args = append(args, "-cpuprofile", profile+"."+name)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// The first line is the address, once the server accepts; a server
	// that fails exits, which ends the read.
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stdin.Close()
		return nil, errors.Join(fmt.Errorf("%s server: %w", kind, err), cmd.Wait())
	}
	return &serverProcess{cmd: cmd, stdin: stdin, addr: strings.TrimSpace(line)}, nil
}

// Close stops the server: it exits when its standard input ends.
func (p *serverProcess) Close() error {
	p.stdin.Close()
	return p.cmd.Wait()
}

// serve is the -serve side: it starts the server, prints its address and
// serves until standard input ends (the bench closed it, or died).
func serve(kind, dir, certDir string) error {
	ctx := context.Background()
	var addr string
	var stop func()
	switch kind {
	case serveAuthplugNative, serveAuthplugSHA2:
		plugin := authplugin.NativePasswordName
		if kind == serveAuthplugSHA2 {
			plugin = ""
		}
		s, err := startAuthplug(ctx, dir, plugin)
		if err != nil {
			return err
		}
		addr, stop = s.Addr().String(), func() { s.Close() }
	case serveGMSAuth, serveGMSOff:
		var tlsConfig *tls.Config
		if certDir != "" {
			pair, err := tls.LoadX509KeyPair(filepath.Join(certDir, "server-cert.pem"), filepath.Join(certDir, "server-key.pem"))
			if err != nil {
				return err
			}
			tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
		}
		a, closeGMS, err := startGMS(ctx, kind != serveGMSOff, tlsConfig)
		if err != nil {
			return err
		}
		addr, stop = a, closeGMS
	default:
		return fmt.Errorf("-serve %q: not a server kind", kind)
	}
	defer stop()
	fmt.Println(addr)
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}
