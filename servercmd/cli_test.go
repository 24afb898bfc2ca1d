package servercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/authplug/authplug/extension"
)

// run runs a command line in-process, with reg's extensions when reg is
// not nil.
func run(t *testing.T, reg *extension.Registry, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	var opts []Option
	if reg != nil {
		opts = append(opts, WithRegistry(reg))
	}
	code = Run(t.Context(), args, &out, &errOut, opts...)
	return code, out.String(), errOut.String()
}

// greeter is a configurable extension with one flag and one command; its
// set-up fails on purpose, telling what it was given, so that a test sees
// the parsed values without starting a server.
func greeter(t *testing.T) *extension.Registry {
	t.Helper()
	reg := extension.NewRegistry()
	declare := func(fs *flag.FlagSet) extension.SetupFunc {
		greeting := fs.String("greeter-greeting", "hello", "what to say")
		return func(_ context.Context, h extension.Host) ([]extension.Option, error) {
			return nil, fmt.Errorf("set up with greeting %q, data dir %q", *greeting, h.DataDir)
		}
	}
	echo := extension.Command{
		Name:    "echo",
		Summary: "print --word and the data directory",
		Declare: func(fs *flag.FlagSet) extension.CommandFunc {
			word := fs.String("word", "", "the word")
			return func(_ context.Context, h extension.Host, out io.Writer) error {
				if *word == "" {
					return errors.New("echo: --word is required")
				}
				_, err := fmt.Fprintln(out, *word, h.DataDir)
				return err
			}
		},
	}
	if err := reg.RegisterConfigurable("greeter", declare, echo); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestCLIHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"serve", "--help"}, {"help", "serve"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := run(t, greeter(t), args...)
			if code != ExitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, errOut)
			}
			for _, want := range []string{"Usage:", "reset-root-password", "echo", "print --word"} {
				if !strings.Contains(out, want) {
					t.Errorf("usage does not show %q:\n%s", want, out)
				}
			}
			if args[0] != "help" || len(args) > 1 {
				for _, want := range []string{"-addr", "-data-dir", "-greeter-greeting"} {
					if !strings.Contains(out, want) {
						t.Errorf("usage does not show the flag %q:\n%s", want, out)
					}
				}
			}
		})
	}
}

func TestCLICommandHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "echo"}, {"echo", "--help"}, {"help", "reset-root-password"}, {"reset-root-password", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := run(t, greeter(t), args...)
			if code != ExitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, errOut)
			}
			cmd := args[0]
			if cmd == "help" {
				cmd = args[1]
			}
			for _, want := range []string{"Usage:\n  authplug " + cmd + " [flags]", "-data-dir"} {
				if !strings.Contains(out, want) {
					t.Errorf("usage does not show %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestCLIUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args       []string
		want, hint string
	}{
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag", "authplug help serve"},
		{[]string{"serve", "stray"}, `unexpected argument "stray"`, "authplug help serve"},
		{[]string{"--addr", "127.0.0.1:0", "stray"}, `unexpected argument "stray"`, "authplug help serve"},
		{[]string{"stray"}, `unknown command "stray"`, "authplug help'"},
		{[]string{"help", "stray"}, `unknown command "stray"`, "authplug help'"},
		{[]string{"help", "echo", "more"}, `unexpected argument "more"`, "authplug help help"},
		{[]string{"echo", "--word", "x", "stray"}, `unexpected argument "stray"`, "authplug help echo"},
		{[]string{"reset-root-password", "stray"}, `unexpected argument "stray"`, "authplug help reset-root-password"},
		{[]string{"--max-connections", "0"}, "--max-connections must be at least 1", "authplug help serve"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := run(t, greeter(t), c.args...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut, c.want) || !strings.Contains(errOut, c.hint) {
				t.Errorf("stderr does not say %q with the hint %q:\n%s", c.want, c.hint, errOut)
			}
			if out != "" {
				t.Errorf("stdout: %q, want nothing", out)
			}
		})
	}
}

func TestCLIVersion(t *testing.T) {
	code, out, errOut := run(t, nil, "--version")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if v, ok := strings.CutPrefix(strings.TrimSpace(out), "authplug "); !ok || v == "" || strings.ContainsAny(v, " \n") {
		t.Errorf("--version printed %q, want \"authplug VERSION\"", out)
	}
}

// An extension's flags are parsed with the server's, and its set-up gets
// their values and the server's data directory.
func TestCLIExtensionFlagsReachTheSetUp(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, greeter(t), "--addr", "127.0.0.1:0", "--data-dir", dir, "--greeter-greeting", "bonjour")
	if code != ExitFailure {
		t.Errorf("exit %d, want %d", code, ExitFailure)
	}
	if want := fmt.Sprintf(`set up with greeting "bonjour", data dir %q`, dir); !strings.Contains(errOut, want) {
		t.Errorf("stderr does not say %q:\n%s", want, errOut)
	}
}

func TestCLIExtensionCommand(t *testing.T) {
	code, out, errOut := run(t, greeter(t), "echo", "--word", "hi", "--data-dir", "/some/dir")
	if code != ExitOK || out != "hi /some/dir\n" {
		t.Errorf("echo: exit %d, stdout %q, stderr %q; want 0, %q", code, out, errOut, "hi /some/dir\n")
	}
	code, _, errOut = run(t, greeter(t), "echo")
	if code != ExitFailure || !strings.Contains(errOut, "--word is required") {
		t.Errorf("echo without --word: exit %d, stderr %q", code, errOut)
	}
}

// A builder's mistakes in an extension are reported, not panicked.
func TestCLIRefusesBadlyDeclaredExtensions(t *testing.T) {
	t.Run("command with a server command's name", func(t *testing.T) {
		reg := extension.NewRegistry()
		cmd := extension.Command{Name: "serve", Declare: func(*flag.FlagSet) extension.CommandFunc { return nil }}
		if err := reg.RegisterConfigurable("x", nil, cmd); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, reg, "--help")
		if code != ExitFailure || !strings.Contains(errOut, `"serve"`) {
			t.Errorf("exit %d, stderr %q; want 1 naming the command", code, errOut)
		}
	})
	t.Run("flag named like the server's", func(t *testing.T) {
		reg := extension.NewRegistry()
		declare := func(fs *flag.FlagSet) extension.SetupFunc {
			fs.String("addr", "", "")
			return func(context.Context, extension.Host) ([]extension.Option, error) { return nil, nil }
		}
		if err := reg.RegisterConfigurable("x", declare); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := run(t, reg, "--addr", "127.0.0.1:0")
		if code != ExitFailure || !strings.Contains(errOut, "--addr must be named --x-") {
			t.Errorf("exit %d, stderr %q; want 1 naming the flag", code, errOut)
		}
	})
}
