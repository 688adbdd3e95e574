package bottest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot/queue"
)

// QueueContract checks what every queue.Backend must do. open returns a
// consumer of one fresh queue; durable backends are opened twice, as two
// consumers of the same queue, to check that a job abandoned by one is
// taken by the other.
func QueueContract(t *testing.T, open func(t *testing.T, consumer string) queue.Backend) {
	ctx := context.Background()
	key := func(s string) string { return fmt.Sprintf("contract:%d:%s", rand.Uint64(), s) }

	t.Run("a delivery is added once", func(t *testing.T) {
		b := open(t, "a")
		k := key("once")
		at := time.Now().Truncate(time.Millisecond)
		for i, want := range []bool{true, false} {
			added, err := b.Add(ctx, k, time.Minute, queue.Job{Lane: "u1", Body: []byte("hello"), Accepted: at})
			if err != nil || added != want {
				t.Fatalf("add #%d: added %v (%v), want %v", i+1, added, err, want)
			}
		}
		if n, err := b.Len(ctx); err != nil || n != 1 {
			t.Fatalf("len %d (%v), want 1", n, err)
		}
		jobs, err := b.Take(ctx, 10, time.Second)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("took %d jobs (%v), want 1", len(jobs), err)
		}
		j := jobs[0]
		if j.ID == "" || j.Lane != "u1" || string(j.Body) != "hello" || !j.Accepted.Equal(at) {
			t.Errorf("took %+v, want lane u1, body hello, accepted %v", j, at)
		}
		if again, _ := b.Take(ctx, 10, 0); len(again) != 0 {
			t.Errorf("a taken job was taken again by its consumer: %+v", again)
		}
		if err := b.Done(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := b.Len(ctx); n != 0 {
			t.Errorf("len %d after done, want 0", n)
		}
	})

	t.Run("take waits, then returns nothing", func(t *testing.T) {
		b := open(t, "a")
		start := time.Now()
		jobs, err := b.Take(ctx, 10, 100*time.Millisecond)
		if err != nil || len(jobs) != 0 {
			t.Fatalf("took %v (%v) from an empty queue", jobs, err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("take returned after %s, want it to wait", d)
		}
	})

	t.Run("take returns a job added while it waits", func(t *testing.T) {
		b := open(t, "a")
		go func() {
			time.Sleep(50 * time.Millisecond)
			_, _ = b.Add(ctx, key("late"), time.Minute, queue.Job{Lane: "u", Body: []byte("late"), Accepted: time.Now()})
		}()
		jobs, err := b.Take(ctx, 10, 3*time.Second)
		if err != nil || len(jobs) != 1 || string(jobs[0].Body) != "late" {
			t.Fatalf("took %v (%v), want the job added meanwhile", jobs, err)
		}
		_ = b.Done(ctx, jobs[0].ID)
	})

	t.Run("a released job is taken again", func(t *testing.T) {
		a := open(t, "a")
		b := a
		if a.Durable() {
			b = open(t, "b")
		}
		if _, err := a.Add(ctx, key("rel"), time.Minute, queue.Job{Lane: "u", Body: []byte("r"), Accepted: time.Now()}); err != nil {
			t.Fatal(err)
		}
		jobs, _ := a.Take(ctx, 10, time.Second)
		if len(jobs) != 1 {
			t.Fatalf("took %d jobs", len(jobs))
		}
		if err := a.Release(ctx, []string{jobs[0].ID}); err != nil {
			t.Fatal(err)
		}
		var again []queue.Job
		for deadline := time.Now().Add(3 * time.Second); len(again) == 0 && time.Now().Before(deadline); {
			again, _ = b.Take(ctx, 10, 100*time.Millisecond)
		}
		if len(again) != 1 || again[0].ID != jobs[0].ID {
			t.Fatalf("after release took %v, want job %s", again, jobs[0].ID)
		}
		_ = b.Done(ctx, again[0].ID)
	})

	t.Run("jobs are taken in the order added, up to max", func(t *testing.T) {
		b := open(t, "a")
		for i := range 5 {
			if _, err := b.Add(ctx, key(fmt.Sprint("order", i)), time.Minute, queue.Job{Lane: "u", Body: []byte{byte('0' + i)}, Accepted: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		var got string
		for len(got) < 5 {
			jobs, err := b.Take(ctx, 2, time.Second)
			if err != nil || len(jobs) == 0 || len(jobs) > 2 {
				t.Fatalf("took %d jobs (%v), want 1 or 2", len(jobs), err)
			}
			for _, j := range jobs {
				got += string(j.Body)
				_ = b.Done(ctx, j.ID)
			}
		}
		if got != "01234" {
			t.Errorf("order %q, want 01234", got)
		}
	})
}
