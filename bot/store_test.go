package bot

import (
	"context"
	"strconv"
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
	for i := range 100 {
		_, _ = d.SetIfAbsent(ctx, "after"+strconv.Itoa(i), time.Second)
	}
	if len(d.keys) > 200 {
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

// The in-memory stores stay bounded by the live keys without sweeping the
// whole map on every write.
func TestMemoryStoresSweepAmortized(t *testing.T) {
	now := time.Unix(0, 0)
	d := NewMemoryDedupe()
	d.now = func() time.Time { return now }
	ctx := context.Background()
	for i := range 5000 {
		if _, err := d.SetIfAbsent(ctx, strconv.Itoa(i), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Minute)
	for i := range 5000 {
		_, _ = d.SetIfAbsent(ctx, "live"+strconv.Itoa(i), time.Hour)
	}
	if n := len(d.keys); n > 2*5000+minSweep {
		t.Errorf("%d keys kept for 5000 live ones", n)
	}

	u := NewMemoryUnanswered()
	for i := range MaxUnansweredTexts + 500 {
		_ = u.RecordUnanswered(ctx, "text "+strconv.Itoa(i))
	}
	if n := len(u.counts); n > MaxUnansweredTexts {
		t.Errorf("unanswered log holds %d texts", n)
	}
}

func BenchmarkMemoryDedupe100k(b *testing.B) {
	d := NewMemoryDedupe()
	ctx := context.Background()
	for i := range 100000 {
		_, _ = d.SetIfAbsent(ctx, "k"+strconv.Itoa(i), time.Hour)
	}
	i := 0
	for b.Loop() {
		i++
		_, _ = d.SetIfAbsent(ctx, "n"+strconv.Itoa(i), time.Hour)
	}
}
