package eval

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/bot"
)

func engine(t *testing.T) *bot.Engine {
	t.Helper()
	e, err := bot.NewBuiltin(nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReportCounts(t *testing.T) {
	cases, err := Read(strings.NewReader(`{"q":"0x80180014","want":"answer","entry":"your-organization-does-not-support-this-version-of-windows","lang":"en"}
{"q":"0x80180014","want":"answer","entry":"device-cap-reached","lang":"nl"}
{"q":"where is the coffee machine?","want":"clarify","offtopic":true,"lang":"en"}
{"q":"0x80cf4017","want":"choices","entries":["the-software-cannot-be-installed","the-account-certificate-is-not-valid-and-may-be-expired"],"lang":"en"}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), engine(t), cases)
	if err != nil {
		t.Fatal(err)
	}
	// The second case is deliberately mislabelled: it must count as a
	// wrong answer, a top-1 miss and a language miss.
	if rep.Top1 != 1 || rep.Top1Of != 2 || rep.Wrong != 1 || rep.OnTopic != 3 ||
		rep.Rejected != 1 || rep.OffTopic != 1 || rep.LangOK != 3 || rep.KindOK != 4 {
		t.Errorf("report %+v", rep)
	}
	if len(rep.Check(DefaultFloors)) == 0 {
		t.Error("a report with a wrong answer passed the floors")
	}
}

// TestFloors is the CI gate: the labelled query set must meet the floors.
func TestFloors(t *testing.T) {
	f, err := os.Open("../../testdata/eval/queries.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 150 {
		t.Fatalf("query set has %d queries, want at least 150", len(cases))
	}
	rep, err := Run(context.Background(), engine(t), cases)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Write(&b, false)
	t.Log("\n" + b.String())
	for _, miss := range rep.Check(DefaultFloors) {
		t.Error(miss)
	}
}

// TestConversationFloors is the CI gate for the conversation sets: the
// general one and the narrowing one.
func TestConversationFloors(t *testing.T) {
	for _, set := range []struct {
		file string
		min  int
	}{{"conversations.jsonl", 60}, {"narrowing.jsonl", 40}} {
		t.Run(set.file, func(t *testing.T) { checkConversationSet(t, "../../testdata/eval/"+set.file, set.min) })
	}
}

func checkConversationSet(t *testing.T, path string, minConvs int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	convs, err := ReadConversations(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) < minConvs {
		t.Fatalf("%s has %d conversations, want at least %d", path, len(convs), minConvs)
	}
	rep, err := RunConversations(context.Background(), engine(t), convs)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Write(&b, false)
	t.Log("\n" + b.String())
	for _, miss := range rep.Check(DefaultConvFloors) {
		t.Error(miss)
	}
}

// A conversation whose expectation the engine misses is counted as such.
func TestConversationReportCounts(t *testing.T) {
	convs, err := ReadConversations(strings.NewReader(`{"id":"ok","turns":[{"in":{"text":"0x80180014"},"want":{"kind":"answer","entry":"your-organization-does-not-support-this-version-of-windows"}},{"in":{"text":"all users"},"want":{"kind":"answer","facts":{"users-affected":"all"}}}]}
{"id":"bad","turns":[{"in":{"text":"0x80180014"},"want":{"kind":"choices"}},{"in":{"action":"summary"},"want":{"kind":"summary"}}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunConversations(context.Background(), engine(t), convs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conversations != 2 || rep.ConversationsOK != 1 || rep.Turns != 4 || rep.TurnsOK != 3 {
		t.Errorf("report %+v", rep)
	}
}
