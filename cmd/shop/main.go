// Command shop runs eventshop on one machine: every service, SQLite stores and
// a durable local event bus in one process, and the tools to look after it.
//
//	shop serve [--addr 127.0.0.1:8080] [--data ./data] [--demo=true]
//	shop token --user NAME [--admin] [--ttl 1h] [--data ./data]
//	shop dlq [--data ./data] queues|list|show|redrive|delete ...
//
// Run shop help, or shop COMMAND --help, for the details.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `shop runs eventshop on one machine and looks after it.

usage:
  shop serve [--addr HOST:PORT] [--data DIR] [--demo=false]   run the shop
  shop token --user NAME [--admin] [--ttl 1h] [--data DIR]    print a token the shop accepts
  shop dlq [--data DIR] queues                                 count each queue's messages and dead letters
  shop dlq [--data DIR] list QUEUE                             list a queue's dead letters
  shop dlq [--data DIR] show QUEUE ID                          print one dead letter
  shop dlq [--data DIR] redrive QUEUE [ID]                     move dead letters back to their queue
  shop dlq [--data DIR] delete QUEUE ID                        delete a dead letter for good
  shop replay [--data DIR] --from TIME [--to TIME] --rule NAME  send archived events to a rule's queue again
  shop help [COMMAND]                                          print this, or a command's help

Run shop COMMAND --help for a command's flags.
`

// A command parses its own flags from args and does its work.
type command func(args []string, stdout, stderr io.Writer) error

var commands = map[string]command{
	"serve":  serve,
	"token":  token,
	"dlq":    dlq,
	"replay": replay,
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run runs the command args name and returns the process's exit code: 0 when
// it succeeded or printed the help asked for, 2 for a usage error, 1 otherwise.
// Errors are sentences on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 1 && commands[rest[0]] != nil {
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "shop: there is no command %q\n\n%s", name, usage)
		return 2
	}
	err := cmd(rest, stdout, stderr)
	var uerr *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "shop %s: %s\n\n%s", name, uerr.msg, uerr.usage)
		return 2
	default:
		fmt.Fprintf(stderr, "shop %s: %s\n", name, sentence(err))
		return 1
	}
}

// usageError is a command line that cannot be run as given.
type usageError struct{ msg, usage string }

func (e *usageError) Error() string { return e.msg }

// flags is a command's flag set, its synopsis and what it adds after the flags.
type flags struct {
	*flag.FlagSet
	synopsis, more string
}

func newFlags(name, synopsis, more string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse reports errors and help itself
	return &flags{FlagSet: fs, synopsis: synopsis, more: more}
}

func (f *flags) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s\n\nflags:\n", f.synopsis)
	f.SetOutput(&b)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
	b.WriteString(f.more)
	return b.String()
}

// parse parses args; --help prints the command's help to stdout and returns
// flag.ErrHelp, and a bad flag is a usageError.
func (f *flags) parse(args []string, stdout io.Writer) error {
	err := f.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, f.usage())
		return err
	}
	if err != nil {
		return f.fail("%v", err)
	}
	return nil
}

func (f *flags) fail(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), usage: f.usage()}
}

// sentence makes an error message start with a capital and end with a full stop.
func sentence(err error) string {
	s := err.Error()
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
