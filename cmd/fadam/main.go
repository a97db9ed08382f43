// Command fadam runs the FAdam experiment suite: compare (the main job), vqvae, asr, ablate and
// bench. Run `fadam help` for the list and `fadam help CMD` for a command's flags.
//
// Exit status: 0 on success (a run that diverged is a result, not a failure), 1 when a command
// fails or is interrupted, 2 for a usage error (unknown command, bad flag or flag value).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand. Each lives in its own file and registers itself in init.
type command struct {
	name    string
	summary string
	// about, if set, is the longer description `fadam help CMD` prints instead of the summary.
	about string
	// run executes the subcommand with its arguments (without the subcommand name). The context
	// is cancelled on Ctrl-C or SIGTERM; a command should stop cleanly and still write what it
	// finished. Errors in the arguments are returned as usage errors (usagef, parseFlags).
	run func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// usageError is an error in a command's arguments. main prints it (unless the flag package
// already has) and exits with status 2.
type usageError struct {
	err      error
	reported bool // already printed, with the command's usage, by the flag package
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error with the formatted message.
func usagef(format string, a ...any) error {
	return &usageError{err: fmt.Errorf(format, a...)}
}

// asUsage marks err, an error caused by the command's arguments (such as a configuration that
// fails validation), as a usage error. It returns nil for nil.
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return err
	}
	return &usageError{err: err}
}

// usageOut receives what the flag package prints: a command's usage for -h or a bad flag.
// run sets it to standard error, or to standard output for `fadam help CMD`.
var usageOut io.Writer = os.Stderr

// parseFlags parses a command's flags with fs, whose name is the command's, and rejects
// positional arguments. The usage it prints for -h or a bad flag names the command and its
// summary. A bad flag comes back as a usage error the flag package has already printed; -h
// returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(usageOut)
	fs.Usage = func() { printCommandUsage(fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	return nil
}

// printCommandUsage writes fs's command line, its command's summary and its flags.
func printCommandUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, "usage: fadam %s [flags]\n", fs.Name())
	name := fs.Name()
	for i, r := range name { // "ablate rho" belongs to "ablate"
		if r == ' ' {
			name = name[:i]
			break
		}
	}
	if c, ok := commands[name]; ok {
		about := c.about
		if about == "" {
			about = c.summary
		}
		fmt.Fprintf(w, "\n%s\n", about)
	}
	fmt.Fprintln(w, "\nflags:")
	fs.PrintDefaults()
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: fadam <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `fadam help <command>` for a command's flags.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program with its arguments (without the program name); it returns the exit
// status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 1 {
			usage(stdout)
			return 0
		}
		if name != "help" || len(args) > 2 {
			fmt.Fprintf(stderr, "fadam: usage: fadam help [command]\n")
			return 2
		}
		c, ok := commands[args[1]]
		if !ok {
			fmt.Fprintf(stderr, "fadam help: unknown command %q\n\n", args[1])
			usage(stderr)
			return 2
		}
		usageOut = stdout
		if err := c.run(context.Background(), []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "fadam help %s: %v\n", c.name, err)
			return 1
		}
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "fadam: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	usageOut = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, args[1:])
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		if !ue.reported {
			fmt.Fprintf(stderr, "fadam %s: %v\nRun `fadam help %s` for usage.\n", c.name, err, c.name)
		}
		return 2
	default:
		fmt.Fprintf(stderr, "fadam %s: %v\n", c.name, err)
		return 1
	}
}
