// Command enrollbot answers Intune device-enrollment errors. This file only
// wires: the catalog (kb), the engine (bot) and a renderer per output.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/eval"
	"github.com/enrollbot/enrollbot/bot/plain"
	"github.com/enrollbot/enrollbot/kb"
	"github.com/enrollbot/enrollbot/locales"
)

const usage = `enrollbot answers Microsoft Intune device-enrollment errors.

Usage:
  enrollbot ask [--lang TAG] [--locale TAG] [--json] TEXT...   answer one pasted error ("-" reads stdin)
  enrollbot chat [--lang TAG]                                 a conversation in the terminal
  enrollbot kb lint                                           check the built-in catalog and wording
  enrollbot healthcheck [--url URL]                           exit 0 when the server at ENROLLBOT_ADDR is ready
  enrollbot report [--top N]                                  unanswered messages and feedback, from Redis
  enrollbot eval [--v] [--floors] FILE                        score the matcher on a labelled query set
  enrollbot serve [--addr ADDR] [--slack-api-url URL]         serve Slack (env: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN)
                                                              and/or Teams (env: MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TENANT_ID)
  enrollbot teams package [--out FILE] [--app-id ID]          zip the Microsoft Teams app package to sideload (bot/teamsapp/README.md)
`

// maxInput bounds what ask reads from stdin; the matcher looks at far less.
const maxInput = 4 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, logger); err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			if ex.msg != "" {
				fmt.Fprintln(os.Stderr, ex.msg)
			}
			os.Exit(ex.code)
		}
		fmt.Fprintln(os.Stderr, "enrollbot:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a code, after printing msg if any.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return exitError{2, usage}
	}
	switch args[0] {
	case "ask":
		return runAsk(ctx, args[1:], stdin, stdout, logger)
	case "chat":
		return runChat(ctx, args[1:], stdin, stdout, logger)
	case "kb":
		if len(args) == 2 && args[1] == "lint" {
			return runLint(stdout)
		}
		return exitError{2, usage}
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout)
	case "report":
		return runReport(ctx, args[1:], stdout)
	case "eval":
		return runEval(ctx, args[1:], stdout, logger)
	case "serve":
		return runServe(ctx, args[1:], stdout, logger)
	case "teams":
		return runTeams(args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return exitError{2, fmt.Sprintf("enrollbot: unknown command %q\n\n%s", args[0], usage)}
}

// langFlag parses --lang: a catalog language or a locale that maps to one.
func langFlag(s string) (kb.Lang, error) {
	if s == "" {
		return "", nil
	}
	l, ok := kb.LangFromLocale(s)
	if !ok {
		return "", fmt.Errorf("--lang %q: want en, nl, sv or de", s)
	}
	return l, nil
}

func runAsk(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	langArg := fs.String("lang", "", "reply language (en, nl, sv, de)")
	locale := fs.String("locale", "", "the client's locale, as a chat client would send it")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return exitError{2, ""}
	}
	lang, err := langFlag(*langArg)
	if err != nil {
		return exitError{2, err.Error()}
	}
	text := strings.Join(fs.Args(), " ")
	if text == "-" {
		data, err := io.ReadAll(io.LimitReader(stdin, maxInput))
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		text = string(data)
	}
	e, err := bot.NewBuiltin(nil, logger)
	if err != nil {
		return err
	}
	r, err := e.Handle(ctx, bot.Turn{Text: text, Lang: lang, Locale: *locale})
	if err != nil {
		return err
	}
	if *asJSON {
		data, err := plain.MarshalJSON(r)
		if err != nil {
			return fmt.Errorf("encode reply: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", data)
		return err
	}
	_, err = io.WriteString(stdout, plain.Render(r))
	return err
}

func runChat(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	langArg := fs.String("lang", "", "reply language (en, nl, sv, de)")
	if err := fs.Parse(args); err != nil {
		return exitError{2, ""}
	}
	lang, err := langFlag(*langArg)
	if err != nil {
		return exitError{2, err.Error()}
	}
	e, err := bot.NewBuiltin(bot.NewMemoryStore(), logger)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, e.Welcome(lang))
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), maxInput)
	for {
		fmt.Fprint(stdout, "> ")
		if !sc.Scan() {
			fmt.Fprintln(stdout)
			return sc.Err()
		}
		line := strings.TrimSpace(sc.Text())
		switch strings.ToLower(line) {
		case "":
			continue
		case "quit", "exit", "q":
			return nil
		}
		r, err := e.Handle(ctx, bot.Turn{Text: line, Lang: lang, User: "terminal", Conversation: "terminal"})
		if err != nil {
			logger.Warn("conversation state", "err", err)
		}
		fmt.Fprintln(stdout, plain.Render(r))
		if ctx.Err() != nil {
			return nil
		}
	}
}

func runLint(stdout io.Writer) error {
	var problems []string
	if _, err := kb.LoadBuiltin(); err != nil {
		var ps kb.Problems
		if !errors.As(err, &ps) {
			return err
		}
		for _, p := range ps {
			problems = append(problems, p.String())
		}
	}
	wording, err := locales.Lint(locales.Files())
	if err != nil {
		return err
	}
	problems = append(problems, wording...)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return exitError{1, fmt.Sprintf("kb lint: %d problem(s)", len(problems))}
	}
	return nil
}

func runEval(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "list every miss")
	floors := fs.Bool("floors", false, "exit non-zero when a figure is below the project's floors")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return exitError{2, usage}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open query set: %w", err)
	}
	defer f.Close()
	cases, err := eval.Read(f)
	if err != nil {
		return fmt.Errorf("query set %s: %w", fs.Arg(0), err)
	}
	e, err := bot.NewBuiltin(nil, logger)
	if err != nil {
		return err
	}
	rep, err := eval.Run(ctx, e, cases)
	if err != nil {
		return err
	}
	rep.Write(stdout, *verbose)
	if misses := rep.Check(eval.DefaultFloors); *floors && len(misses) > 0 {
		return exitError{1, "eval below floors: " + strings.Join(misses, "; ")}
	}
	return nil
}
