// Command enrollbot answers Intune device-enrollment errors at a terminal:
// one pasted error (ask), a conversation (chat), the catalog's checks (kb
// lint) and the labelled sets (eval). It only wires the catalog (kb), the
// engine (bot) and a plain-text renderer; the chat server is enrollbotd.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/eval"
	"github.com/enrollbot/enrollbot/bot/plain"
	"github.com/enrollbot/enrollbot/internal/cli"
	"github.com/enrollbot/enrollbot/kb"
	"github.com/enrollbot/enrollbot/locales"
)

const usage = `enrollbot answers Microsoft Intune device-enrollment errors.

Usage:
  enrollbot ask [--lang TAG] [--locale TAG] [--json] TEXT...   answer one pasted error ("-" reads stdin)
  enrollbot chat [--lang TAG] [--json]                        a conversation in the terminal (--json: JSON Lines in and out)
  enrollbot kb lint                                           check the built-in catalog and wording
  enrollbot eval [--v] [--floors [--floor-set admin]] FILE    score the engine on a labelled query or conversation set

The server and its operations are enrollbotd's (serve, healthcheck, report,
teams package); enrollbot hands those commands to an enrollbotd installed
beside it or on PATH.
`

// maxInput bounds what ask reads from stdin; the matcher looks at far less.
const maxInput = 4 << 20

func main() { cli.Main("enrollbot", run) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return cli.ExitError{Code: 2, Msg: usage}
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
		return cli.ExitError{Code: 2, Msg: usage}
	case "eval":
		return runEval(ctx, args[1:], stdout, logger)
	case "serve", "healthcheck", "report", "teams":
		return handOver(ctx, args, stdin, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return cli.ExitError{Code: 2, Msg: fmt.Sprintf("enrollbot: unknown command %q\n\n%s", args[0], usage)}
}

// serverBinary is the server's command, which enrollbot hands the server's
// commands to.
const serverBinary = "enrollbotd"

// handOver runs enrollbotd with args in this process's place, so that
// `enrollbot serve` and scripts written before the split keep working
// wherever both binaries are installed: on Unix by exec, so that signals
// and the exit code are enrollbotd's own; on Windows, which has no exec,
// as a child with this process's streams, passing its exit code on.
func handOver(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	path, err := findServer()
	if err != nil {
		return cli.ExitError{Code: 2, Msg: fmt.Sprintf("enrollbot %s: this is a command of the server binary, %s, which is not beside enrollbot or on PATH; run `%s %s` (from a checkout: go run ./cmd/%s %s)",
			args[0], serverBinary, serverBinary, args[0], serverBinary, args[0])}
	}
	if runtime.GOOS != "windows" {
		if err := syscall.Exec(path, append([]string{path}, args...), os.Environ()); err != nil {
			return fmt.Errorf("run %s: %w", path, err)
		}
		return nil
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return cli.ExitError{Code: exit.ExitCode()}
		}
		return fmt.Errorf("run %s: %w", path, err)
	}
	return nil
}

// findServer looks for enrollbotd beside this executable first (one
// install, one directory), then on PATH.
func findServer() (string, error) {
	name := serverBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), name)
		if info, err := os.Stat(beside); err == nil && !info.IsDir() {
			return beside, nil
		}
	}
	return exec.LookPath(serverBinary)
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
		return cli.ExitError{Code: 2, Msg: ""}
	}
	lang, err := langFlag(*langArg)
	if err != nil {
		return cli.ExitError{Code: 2, Msg: err.Error()}
	}
	text := strings.Join(fs.Args(), " ")
	if os.Getenv("GOGC") == "" {
		// One answer, then exit: no collection while the indexes are
		// built (measured: at 100 a pasted device message collects once
		// and takes 2–5 ms longer, peaking about 1 MiB higher).
		debug.SetGCPercent(askGCPercent)
	}
	if text == "-" {
		data, err := io.ReadAll(io.LimitReader(stdin, maxInput))
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		text = string(data)
	}
	e, err := bot.NewBuiltin(logger)
	if err != nil {
		return err
	}
	e = e.WithHandoffText(os.Getenv("ENROLLBOT_HANDOFF_TEXT"))
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: e, Logger: logger})
	if err != nil {
		return err
	}
	r := s.Handle(ctx, bot.Turn{Input: bot.Input{Text: text, Lang: lang, Locale: *locale}}).Reply
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

// askGCPercent is ask's GOGC unless the environment sets one.
const askGCPercent = 200

// pasteGap is how close together lines must arrive at a terminal to be one
// paste: a person types a line in far more than this, a terminal delivers
// a pasted block within a few milliseconds.
const pasteGap = 30 * time.Millisecond

func runChat(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	langArg := fs.String("lang", "", "reply language (en, nl, sv, de)")
	asJSON := fs.Bool("json", false, "JSON Lines: one input object per line in, one reply object per line out")
	if err := fs.Parse(args); err != nil {
		return cli.ExitError{Code: 2, Msg: ""}
	}
	lang, err := langFlag(*langArg)
	if err != nil {
		return cli.ExitError{Code: 2, Msg: err.Error()}
	}
	e, err := bot.NewBuiltin(logger)
	if err != nil {
		return err
	}
	e = e.WithHandoffText(os.Getenv("ENROLLBOT_HANDOFF_TEXT"))
	s, err := bot.NewSessions(bot.SessionsConfig{Engine: e, Store: bot.NewMemoryStore(),
		Preferences: bot.NewMemoryPreferences(), Feedback: bot.NewMemoryFeedback(), Logger: logger})
	if err != nil {
		return err
	}
	if *asJSON {
		return chatJSON(ctx, s, stdin, stdout, lang)
	}
	gap := time.Duration(0)
	if isTerminal(stdin) {
		gap = pasteGap
	}
	fmt.Fprintln(stdout, e.Welcome(lang))
	turns := readTurns(ctx, stdin, gap)
	for {
		fmt.Fprint(stdout, "> ")
		text, ok := <-turns
		if !ok {
			fmt.Fprintln(stdout)
			return nil
		}
		text = strings.TrimSpace(text)
		switch strings.ToLower(text) {
		case "":
			continue
		case "quit", "exit", "q":
			return nil
		}
		in := bot.Input{Text: text, Lang: lang}
		if l, clear, ok := bot.ParseLangCommand(text); ok {
			if clear {
				lang = ""
				if err := s.ClearLang(ctx, "cli:terminal", "cli:terminal"); err != nil {
					logger.Warn("clear language", "err", err)
				}
				fmt.Fprintln(stdout, e.Wording().Get(s.Lang(ctx, "cli:terminal", ""), "LangCleared", nil))
				fmt.Fprintln(stdout)
				continue
			}
			if l == "" {
				fmt.Fprintln(stdout, e.Wording().Get(s.Lang(ctx, "cli:terminal", ""), "LangUsage", nil))
				fmt.Fprintln(stdout)
				continue
			}
			lang = ""
			in = bot.Input{Action: bot.ActLang, Lang: l}
		}
		out := s.Handle(ctx, bot.Turn{Key: "cli:terminal", User: "cli:terminal", Input: in})
		fmt.Fprintln(stdout, plain.Render(out.Reply))
		if ctx.Err() != nil {
			return nil
		}
	}
}

// chatJSON is the scripting contract: one input object per line, one
// reply object per line, flushed after each.
func chatJSON(ctx context.Context, s *bot.Sessions, stdin io.Reader, stdout io.Writer, lang kb.Lang) error {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64*1024), maxInput)
	w := bufio.NewWriter(stdout)
	for sc.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		in, user, err := plain.ParseInput(line)
		if err != nil {
			data, _ := json.Marshal(map[string]string{"error": err.Error()})
			fmt.Fprintf(w, "%s\n", data)
			if err := w.Flush(); err != nil {
				return fmt.Errorf("write reply: %w", err)
			}
			continue
		}
		if in.Lang == "" && in.Action != bot.ActLang {
			in.Lang = lang
		}
		if user == "" {
			user = "terminal"
		}
		out := s.Handle(ctx, bot.Turn{Key: "cli:" + user, User: "cli:" + user, Input: in})
		data, err := plain.MarshalJSON(out.Reply)
		if err != nil {
			return fmt.Errorf("encode reply: %w", err)
		}
		fmt.Fprintf(w, "%s\n", data)
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write reply: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read input: %w", err)
	}
	return nil
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readTurns reads lines from r and sends them as turns: lines that arrive
// within gap of each other form one turn (a pasted block); with a zero gap
// every line is a turn. The channel closes at the end of input.
func readTurns(ctx context.Context, r io.Reader, gap time.Duration) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), maxInput)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return groupLines(ctx, lines, gap)
}

// groupLines joins lines that arrive within gap of the previous one.
func groupLines(ctx context.Context, lines <-chan string, gap time.Duration) <-chan string {
	turns := make(chan string)
	go func() {
		defer close(turns)
		for {
			first, ok := <-lines
			if !ok {
				return
			}
			block := []string{first}
		gather:
			for gap > 0 {
				t := time.NewTimer(gap)
				select {
				case l, more := <-lines:
					t.Stop()
					if !more {
						break gather
					}
					block = append(block, l)
				case <-t.C:
					break gather
				}
			}
			select {
			case turns <- strings.Join(block, "\n"):
			case <-ctx.Done():
				return
			}
		}
	}()
	return turns
}

func runLint(stdout io.Writer) error {
	var problems []string
	// Lint the source files, not the generated catalog_gen.go (a stale one
	// fails the tests).
	cat, err := kb.Load(kb.BuiltinFS())
	if err != nil {
		var ps kb.Problems
		if !errors.As(err, &ps) {
			return err
		}
		for _, p := range ps {
			problems = append(problems, p.String())
		}
	} else {
		for _, p := range cat.LintTerms() {
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
		return cli.ExitError{Code: 1, Msg: fmt.Sprintf("kb lint: %d problem(s)", len(problems))}
	}
	return nil
}

func runEval(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "list every miss")
	floors := fs.Bool("floors", false, "exit non-zero when a figure is below the project's floors")
	set := fs.String("floor-set", "queries", "the floors a query set is held to: queries or admin")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return cli.ExitError{Code: 2, Msg: usage}
	}
	queryFloors, ok := eval.FloorSets[*set]
	if !ok {
		return cli.ExitError{Code: 2, Msg: fmt.Sprintf("unknown floor set %q (queries, admin)", *set)}
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open query set: %w", err)
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	var cases []eval.Case
	var convs []eval.Conversation
	if eval.IsConversationSet(first) {
		convs, err = eval.ReadConversations(bytes.NewReader(data))
	} else {
		cases, err = eval.Read(bytes.NewReader(data))
	}
	if err != nil {
		return fmt.Errorf("query set %s: %w", fs.Arg(0), err)
	}
	e, err := bot.NewBuiltin(logger)
	if err != nil {
		return err
	}
	if convs != nil {
		rep, err := eval.RunConversations(ctx, e, convs)
		if err != nil {
			return err
		}
		rep.Write(stdout, *verbose)
		if misses := rep.Check(eval.DefaultConvFloors); *floors && len(misses) > 0 {
			return cli.ExitError{Code: 1, Msg: "eval below floors: " + strings.Join(misses, "; ")}
		}
		return nil
	}
	rep, err := eval.Run(ctx, e, cases)
	if err != nil {
		return err
	}
	rep.Write(stdout, *verbose)
	if misses := rep.Check(queryFloors); *floors && len(misses) > 0 {
		return cli.ExitError{Code: 1, Msg: "eval below floors: " + strings.Join(misses, "; ")}
	}
	return nil
}
