package bot

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/kb"
)

func TestMemoryPreferences(t *testing.T) {
	ctx := context.Background()
	p := NewMemoryPreferences()
	if _, ok, err := p.Lang(ctx, "u"); ok || err != nil {
		t.Fatalf("empty store has a language (%v)", err)
	}
	if err := p.SetLang(ctx, "u", kb.Swedish); err != nil {
		t.Fatal(err)
	}
	if l, ok, _ := p.Lang(ctx, "u"); !ok || l != kb.Swedish {
		t.Fatalf("got %q %v", l, ok)
	}
	if err := p.SetLang(ctx, "u", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := p.Lang(ctx, "u"); ok {
		t.Fatal("an empty language did not clear the preference")
	}
}

func TestMemoryDedupe(t *testing.T) {
	ctx := context.Background()
	d := NewMemoryDedupe()
	now := time.Unix(1_700_000_000, 0)
	d.now = func() time.Time { return now }
	if first, _ := d.SetIfAbsent(ctx, "ev1", time.Minute); !first {
		t.Fatal("first claim refused")
	}
	if first, _ := d.SetIfAbsent(ctx, "ev1", time.Minute); first {
		t.Fatal("second claim granted")
	}
	now = now.Add(time.Minute)
	if first, _ := d.SetIfAbsent(ctx, "ev1", time.Minute); !first {
		t.Fatal("claim after the TTL refused")
	}

	// Concurrent claims of one key: exactly one wins.
	var wg sync.WaitGroup
	wins := make(chan bool, 64)
	for range 64 {
		wg.Go(func() {
			first, _ := d.SetIfAbsent(ctx, "race", time.Minute)
			wins <- first
		})
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d concurrent claims won", n)
	}

	// Expired keys are swept, so memory follows the live ones.
	for i := range 2000 {
		_, _ = d.SetIfAbsent(ctx, string(rune(i)), time.Second)
	}
	now = now.Add(time.Hour)
	_, _ = d.SetIfAbsent(ctx, "after", time.Second)
	if len(d.keys) > 2 {
		t.Fatalf("%d keys kept after they expired", len(d.keys))
	}
}

func TestMemoryFeedback(t *testing.T) {
	ctx := context.Background()
	f := NewMemoryFeedback()
	votes := []Feedback{
		{Entry: "a", Solved: true, User: "u1", Message: "m1"},
		{Entry: "a", Solved: false, User: "u2", Message: "m1"},
		{Entry: "a", Solved: true, User: "u2", Message: "m2"},
		{Entry: "b", Solved: false, User: "u1", Message: "m3"},
		// u1 changes their mind on m1.
		{Entry: "a", Solved: false, User: "u1", Message: "m1"},
	}
	for _, v := range votes {
		if err := f.RecordFeedback(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := f.FeedbackCounts(ctx, "a"); c != (FeedbackCounts{Solved: 1, NotSolved: 2}) {
		t.Fatalf("a: %+v", c)
	}
	if c, _ := f.FeedbackCounts(ctx, "b"); c != (FeedbackCounts{NotSolved: 1}) {
		t.Fatalf("b: %+v", c)
	}
	if c, _ := f.FeedbackCounts(ctx, "none"); c != (FeedbackCounts{}) {
		t.Fatalf("none: %+v", c)
	}
}

// The memory types satisfy the interfaces the Slack adapter takes.
var (
	_ Store         = (*MemoryStore)(nil)
	_ Preferences   = (*MemoryPreferences)(nil)
	_ Dedupe        = (*MemoryDedupe)(nil)
	_ FeedbackStore = (*MemoryFeedback)(nil)
)
