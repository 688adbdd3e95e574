// Command enrollbotd is enrollbot's server and its operations: it serves
// Slack and Microsoft Teams, answers a container's health check, reports
// what the bot could not place, and zips the Teams app package. This file
// only wires; the one-off terminal tool is enrollbot.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/enrollbot/enrollbot/internal/cli"
)

const usage = `enrollbotd serves enrollbot in Slack and Microsoft Teams.

Usage:
  enrollbotd serve [--addr ADDR] [--slack-api-url URL]         serve Slack (env: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)
                                                               and/or Teams (env: MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TENANT_ID)
  enrollbotd healthcheck [--url URL]                           exit 0 when the server at ENROLLBOT_ADDR is ready
  enrollbotd report [--top N]                                  unanswered messages and feedback, from Redis
  enrollbotd teams package [--out FILE] [--app-id ID]          zip the Microsoft Teams app package to sideload (bot/teamsapp/README.md)

Answering one pasted error at a terminal is enrollbot's (enrollbot ask).
`

func main() { cli.Main("enrollbotd", run) }

func run(ctx context.Context, args []string, _ io.Reader, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return cli.ExitError{Code: 2, Msg: usage}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, logger)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout)
	case "report":
		return runReport(ctx, args[1:], stdout)
	case "teams":
		return runTeams(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return cli.ExitError{Code: 2, Msg: fmt.Sprintf("enrollbotd: unknown command %q\n\n%s", args[0], usage)}
}
