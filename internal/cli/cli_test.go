package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
)

func TestMainCode(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		code   int
		stderr string
	}{
		{"success", nil, 0, ""},
		{"usage", ExitError{Code: 2, Msg: "usage: tool ask"}, 2, "usage: tool ask\n"},
		{"check failed quietly", ExitError{Code: 1}, 1, ""},
		{"wrapped exit", fmt.Errorf("lint: %w", ExitError{Code: 3, Msg: "3 problems"}), 3, "3 problems\n"},
		{"other error", errors.New("load catalog: broken"), 1, "tool: load catalog: broken\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			run := func(ctx context.Context, args []string, _ io.Reader, stdout io.Writer, logger *slog.Logger) error {
				if ctx == nil || logger == nil || len(args) != 1 || args[0] != "arg" {
					t.Errorf("run got ctx %v, logger %v, args %q", ctx, logger, args)
				}
				return c.err
			}
			code := mainCode("tool", run, []string{"arg"}, nil, io.Discard, &stderr)
			if code != c.code || stderr.String() != c.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr.String(), c.code, c.stderr)
			}
		})
	}
}
