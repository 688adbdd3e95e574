package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
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
	var ex exitError
	if !errors.As(err, &ex) || ex.code != 2 {
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
