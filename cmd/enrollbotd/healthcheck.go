package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/enrollbot/enrollbot/internal/cli"
)

// runHealthcheck asks a running server whether it is ready: the container
// image has no shell or curl, so the binary checks itself.
func runHealthcheck(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	url := fs.String("url", "", "URL to check; default /readyz on ENROLLBOT_ADDR's port on loopback")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return cli.ExitError{Code: 2, Msg: usage}
	}
	if *url == "" {
		_, port, err := net.SplitHostPort(envOr("ENROLLBOT_ADDR", ":8080"))
		if err != nil {
			return cli.ExitError{Code: 2, Msg: fmt.Sprintf("healthcheck: ENROLLBOT_ADDR: %v", err)}
		}
		*url = "http://127.0.0.1:" + port + "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return cli.ExitError{Code: 2, Msg: fmt.Sprintf("healthcheck: %v", err)}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return cli.ExitError{Code: 1, Msg: fmt.Sprintf("healthcheck %s: %v", *url, err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return cli.ExitError{Code: 1, Msg: fmt.Sprintf("healthcheck %s: %s: %s", *url, resp.Status, body)}
	}
	_, err = stdout.Write(body)
	return err
}
