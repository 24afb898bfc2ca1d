// Package servercmd is the authplug server as a library, the way a Caddy
// build is: a builder's main blank-imports their extensions and calls Main,
// which parses the command line (the server's flags, and those each
// extension declares through the registry), sets up every registered
// extension, and serves until SIGINT or SIGTERM.
//
//	package main
//
//	import (
//		_ "example.com/mytokens" // calls extension.Register in init
//
//		"github.com/authplug/authplug/servercmd"
//	)
//
//	func main() { servercmd.Main() }
package servercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/authplug/authplug/extension"
)

// Exit codes of Run.
const (
	ExitOK      = 0
	ExitFailure = 1 // the command ran and failed
	ExitUsage   = 2 // the command line is wrong; nothing ran
)

// defaultDataDir is relative on purpose: the quick start keeps everything
// beside the checkout (and .gitignore keeps it out of commits).
const defaultDataDir = "./authplug-data"

// Option configures Main and Run.
type Option func(*cli)

// WithRegistry takes the extensions from r rather than from the global
// registry that extension.Register fills: for tests, and for hosts that
// choose their extensions in code.
func WithRegistry(r *extension.Registry) Option { return func(c *cli) { c.reg = r } }

// WithName is the program's name in usage and messages (default
// "authplug"; Main uses the executable's).
func WithName(name string) Option { return func(c *cli) { c.name = name } }

// Main runs the command line of the process and exits with Run's code.
func Main(opts ...Option) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal starts the shutdown, a second one kills the
	// process at once, as an operator pressing Ctrl-C again expects.
	go func() {
		<-ctx.Done()
		stop()
	}()
	opts = append([]Option{WithName(filepath.Base(os.Args[0]))}, opts...)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr, opts...)
	stop()
	os.Exit(code)
}

// Run runs one command line (args without the program's name) and returns
// its exit code: the server until ctx is done, or a subcommand. Usage and
// command output go to stdout, logs and errors to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, opts ...Option) int {
	c := &cli{name: "authplug", stdout: stdout, stderr: stderr}
	for _, o := range opts {
		o(c)
	}
	if c.reg == nil {
		c.reg = globalRegistry{}
	}
	for _, ec := range c.reg.Commands() {
		if slices.Contains(hostCommands, ec.Name) {
			return c.fail(fmt.Errorf("an extension's command %q has the name of one of the server's own", ec.Name))
		}
	}
	cmd, rest := "serve", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return c.serve(ctx, rest)
	case "reset-root-password":
		return c.resetRootPassword(ctx, rest)
	case "help":
		return c.help(rest)
	}
	if ec, ok := c.command(cmd); ok {
		return c.extensionCommand(ctx, ec, rest)
	}
	return c.usageError("", fmt.Errorf("unknown command %q", cmd))
}

var hostCommands = []string{"serve", "reset-root-password", "help"}

// registry is what Run needs of an extension registry; globalRegistry
// stands for the package-level one.
type registry interface {
	Configure(fs *flag.FlagSet) (*extension.Configuration, error)
	Commands() []extension.Command
}

type globalRegistry struct{}

func (globalRegistry) Configure(fs *flag.FlagSet) (*extension.Configuration, error) {
	return extension.Configure(fs)
}
func (globalRegistry) Commands() []extension.Command { return extension.Commands() }

type cli struct {
	name           string
	reg            registry
	stdout, stderr io.Writer
}

func (c *cli) command(name string) (extension.Command, bool) {
	for _, ec := range c.reg.Commands() {
		if ec.Name == name {
			return ec, true
		}
	}
	return extension.Command{}, false
}

// parse parses args as cmd's flags. done is true when Run must return code
// at once: help was asked for, or the command line is wrong.
func (c *cli) parse(cmd string, fs *flag.FlagSet, args []string) (code int, done bool) {
	// flag would print the whole usage on any mistake; one line and a
	// hint are easier to read, and help goes to stdout.
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.printUsage(c.stdout, cmd, fs)
		return ExitOK, true
	case err != nil:
		return c.usageError(cmd, err), true
	case fs.NArg() > 0:
		return c.usageError(cmd, fmt.Errorf("unexpected argument %q", fs.Arg(0))), true
	}
	return ExitOK, false
}

func (c *cli) usageError(cmd string, err error) int {
	hint := c.name + " help"
	if cmd != "" {
		hint += " " + cmd
	}
	fmt.Fprintf(c.stderr, "%s: %v\nRun '%s' for usage.\n", c.name, err, hint)
	return ExitUsage
}

func (c *cli) fail(err error) int {
	fmt.Fprintf(c.stderr, "%s: %v\n", c.name, err)
	return ExitFailure
}

// help prints the usage, or one command's.
func (c *cli) help(args []string) int {
	if len(args) > 1 {
		return c.usageError("help", fmt.Errorf("unexpected argument %q", args[1]))
	}
	cmd := "serve"
	if len(args) == 1 {
		cmd = args[0]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	switch cmd {
	case "serve":
		if _, err := c.serveFlags(fs); err != nil {
			return c.fail(err)
		}
	case "reset-root-password":
		if _, err := c.resetFlags(fs); err != nil {
			return c.fail(err)
		}
	case "help":
	default:
		ec, ok := c.command(cmd)
		if !ok {
			return c.usageError("", fmt.Errorf("unknown command %q", cmd))
		}
		if _, _, err := declareCommand(ec, fs); err != nil {
			return c.fail(err)
		}
	}
	c.printUsage(c.stdout, cmd, fs)
	return ExitOK
}

func (c *cli) printUsage(w io.Writer, cmd string, fs *flag.FlagSet) {
	if cmd == "serve" || cmd == "help" {
		fmt.Fprintf(w, "Usage:\n  %s [serve] [flags]\n  %s <command> [flags]\n\n", c.name, c.name)
		fmt.Fprintln(w, "Runs a MySQL-compatible server with authplug and the extensions compiled in,\nuntil SIGINT or SIGTERM.")
		fmt.Fprintln(w, "\nCommands:")
		fmt.Fprintf(w, "  %-20s %s\n", "serve", "run the server (the default)")
		fmt.Fprintf(w, "  %-20s %s\n", "reset-root-password", "set root@localhost's password, with the server stopped")
		for _, ec := range c.reg.Commands() {
			fmt.Fprintf(w, "  %-20s %s\n", ec.Name, ec.Summary)
		}
		fmt.Fprintf(w, "  %-20s %s\n", "help [command]", "show this, or a command's flags")
		if cmd == "help" {
			return
		}
		fmt.Fprintln(w, "\nFlags of serve:")
	} else {
		fmt.Fprintf(w, "Usage:\n  %s %s [flags]\n\n", c.name, cmd)
		switch cmd {
		case "reset-root-password":
			fmt.Fprintln(w, "Sets root@localhost's password in the data directory, with no server running\non it (the way back in when it is lost).")
		default:
			ec, _ := c.command(cmd)
			fmt.Fprintln(w, ec.Summary)
		}
		fmt.Fprintln(w, "\nFlags:")
	}
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// declareCommand adds the host's --data-dir and an extension command's
// flags to fs; a panicking declaration is the extension's error, not the
// server's crash.
func declareCommand(ec extension.Command, fs *flag.FlagSet) (run extension.CommandFunc, dataDir *string, err error) {
	dataDir = fs.String("data-dir", defaultDataDir, "the server's data directory")
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("command %q: declaring its flags panicked: %v", ec.Name, p)
		}
	}()
	run = ec.Declare(fs)
	if run == nil {
		return nil, nil, fmt.Errorf("command %q: its declaration returned nothing to run", ec.Name)
	}
	return run, dataDir, nil
}

func (c *cli) extensionCommand(ctx context.Context, ec extension.Command, args []string) int {
	fs := flag.NewFlagSet(ec.Name, flag.ContinueOnError)
	run, dataDir, err := declareCommand(ec, fs)
	if err != nil {
		return c.fail(err)
	}
	if code, done := c.parse(ec.Name, fs, args); done {
		return code
	}
	if err := run(ctx, extension.Host{DataDir: *dataDir, Logger: newLogger(c.stderr), Audit: c.stderr}, c.stdout); err != nil {
		return c.fail(err)
	}
	return ExitOK
}

const module = "github.com/authplug/authplug"

// version is authplug's module version in this binary: the main module's
// when it is authplug, a dependency's in a builder's binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	v := ""
	if bi.Main.Path == module {
		v = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path != module {
			continue
		}
		v = d.Version
		// A replace by a local checkout: the required version is not
		// what was built.
		if d.Replace != nil {
			v = d.Replace.Version
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}
