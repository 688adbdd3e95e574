// Package cli is what enrollbot's two commands share: how they start, stop
// on a signal, log, and end with an exit code. The one-off tool (enrollbot)
// and the server (enrollbotd) are separate binaries so that answering one
// pasted error does not load, link or initialise the server's Slack, Teams,
// Redis and Prometheus packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// ExitError ends the program with Code, after printing Msg if any (usage,
// a flag that does not parse, a check that failed).
type ExitError struct {
	Code int
	Msg  string
}

func (e ExitError) Error() string { return e.Msg }

// Run is one command's body: what it reads, where it writes and logs.
type Run func(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error

// Main runs run with the process's arguments and streams, a context that
// ends on SIGINT or SIGTERM, and warnings logged to stderr, then exits
// with the code run's error asks for.
func Main(name string, run Run) {
	os.Exit(mainCode(name, run, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func mainCode(name string, run Run, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := run(ctx, args, stdin, stdout, logger)
	if err == nil {
		return 0
	}
	var ex ExitError
	if errors.As(err, &ex) {
		if ex.Msg != "" {
			fmt.Fprintln(stderr, ex.Msg)
		}
		return ex.Code
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 1
}
