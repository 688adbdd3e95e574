package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/internal/cli"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return out.String(), err
}

func TestAskJSON(t *testing.T) {
	out, err := runCLI(t, "", "ask", "--json", "--lang", "de", "0x80180014")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Kind  string `json:"kind"`
		Lang  string `json:"lang"`
		Entry string `json:"entry"`
		Code  struct {
			Hex    string `json:"hex"`
			Symbol string `json:"symbol"`
		} `json:"code"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	if got.Kind != "answer" || got.Lang != "de" || got.Code.Hex != "0x80180014" || got.Entry == "" || got.Text == "" {
		t.Errorf("got %+v", got)
	}
}

func TestAskStdin(t *testing.T) {
	out, err := runCLI(t, "Apparaatlimiet bereikt", "ask", "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Apparaatlimiet bereikt") {
		t.Errorf("Dutch answer expected, got:\n%s", out)
	}
}

func TestAskRejectsUnknownLanguage(t *testing.T) {
	_, err := runCLI(t, "", "ask", "--lang", "fr", "0x80180014")
	var ex cli.ExitError
	if !errors.As(err, &ex) || ex.Code != 2 {
		t.Errorf("err = %v, want exit 2", err)
	}
}

func TestChatPicksChoiceByNumber(t *testing.T) {
	out, err := runCLI(t, "0x80cf4017\n1\nquit\n", "chat")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Which of these do you see?") || !strings.Contains(out, "Source:") {
		t.Errorf("chat did not offer choices and then answer:\n%s", out)
	}
}

func TestLintBuiltin(t *testing.T) {
	out, err := runCLI(t, "", "kb", "lint")
	if err != nil || out != "" {
		t.Errorf("kb lint: %v\n%s", err, out)
	}
}

// chat --json is the scripting contract: one reply object per input line,
// with causes and facts; actions are the buttons' inputs.
func TestChatJSON(t *testing.T) {
	in := strings.Join([]string{
		`{"text": "Profile installation failed. Connection to the server could not be established."}`,
		`{"text": "alle gebruikers", "locale": "nl-NL"}`,
		`{"action": "not_solved"}`,
		`{"action": "summary"}`,
		`{"action": "bogus"}`,
		`{"text": "kun je in het Nederlands antwoorden?"}`,
	}, "\n")
	out, err := runCLI(t, in, "chat", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d reply lines for 6 inputs:\n%s", len(lines), out)
	}
	type reply struct {
		Kind    string                `json:"kind"`
		Lang    string                `json:"lang"`
		Entry   string                `json:"entry"`
		Causes  []struct{ ID string } `json:"causes"`
		Facts   map[string]string     `json:"facts"`
		Summary string                `json:"summary"`
		Error   string                `json:"error"`
	}
	var rs []reply
	for _, l := range lines {
		var r reply
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, l)
		}
		rs = append(rs, r)
	}
	if rs[0].Kind != "answer" || len(rs[0].Causes) < 2 {
		t.Fatalf("first reply %+v", rs[0])
	}
	if rs[1].Kind != "answer" || rs[1].Entry != rs[0].Entry || rs[1].Facts["users-affected"] != "all" {
		t.Errorf("follow-up lost the conversation: %+v", rs[1])
	}
	if rs[2].Kind != "answer" || rs[2].Causes[0].ID == rs[1].Causes[0].ID {
		t.Errorf("not_solved did not move on: %+v", rs[2])
	}
	if rs[3].Kind != "summary" || !strings.Contains(rs[3].Summary, "0x") && !strings.Contains(rs[3].Summary, "Profile") {
		t.Errorf("summary %+v", rs[3])
	}
	if rs[4].Error == "" {
		t.Errorf("unknown action not reported: %+v", rs[4])
	}
	if rs[5].Lang != "nl" || rs[5].Kind != "answer" {
		t.Errorf("language request: %+v", rs[5])
	}
}

// Lines that arrive together are one paste; lines apart are turns.
func TestGroupLines(t *testing.T) {
	ctx := context.Background()
	lines := make(chan string)
	turns := groupLines(ctx, lines, 20*time.Millisecond)
	go func() {
		for _, l := range []string{"Event 76", "Auto MDM Enroll: Failed", "(0x8018002b)"} {
			lines <- l
		}
		time.Sleep(200 * time.Millisecond)
		lines <- "all users"
		close(lines)
	}()
	var got []string
	for t := range turns {
		got = append(got, t)
	}
	if len(got) != 2 || strings.Count(got[0], "\n") != 2 || got[1] != "all users" {
		t.Errorf("turns %q, want the 3-line paste and then one line", got)
	}
}

func TestChatLangCommand(t *testing.T) {
	out, err := runCLI(t, "0x80180014\nlang de\nquit\n", "chat")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Ich antworte ab jetzt auf Deutsch.") {
		t.Errorf("lang de did not switch:\n%s", out)
	}
}

// TestServerCommandsHandedOver builds enrollbot beside a stand-in enrollbotd
// and checks that `enrollbot serve …` runs it with the same arguments, and
// that without one the error says which binary to run.
func TestServerCommandsHandedOver(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in enrollbotd is a shell script")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "enrollbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// PATH holds only an empty folder: an enrollbotd installed on this
	// machine must not answer for the missing one.
	noServer := exec.Command(bin, "report", "--top", "3")
	noServer.Env = append(os.Environ(), "PATH="+t.TempDir())
	out, err := noServer.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "enrollbotd report") {
		t.Fatalf("without enrollbotd: %v, %q; want exit 2 naming enrollbotd report", err, out)
	}
	server := "#!/bin/sh\necho \"enrollbotd got: $*\"\n"
	if err := os.WriteFile(filepath.Join(dir, "enrollbotd"), []byte(server), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, "serve", "--addr", ":9999").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "enrollbotd got: serve --addr :9999" {
		t.Fatalf("enrollbot serve beside enrollbotd: %v, %q", err, out)
	}
}
