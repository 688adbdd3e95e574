package slackbot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
	"github.com/enrollbot/enrollbot/bot/queue"
	"github.com/enrollbot/enrollbot/bot/redisstore"
)

// BenchmarkRepliesByStore measures whole replies through POST /slack/events
// over loopback, with the state in memory and in Redis (REDIS_URL): each
// op is one direct message with a fresh event id (dedupe claim, rate
// limit, conversation state, language preference lookup, engine,
// chat.postMessage to a fake Slack), with the stores serve uses. 16 clients send concurrently; it reports replies per
// second and the median and 99th percentile from request to posted reply.
//
//	REDIS_URL=redis://127.0.0.1:6379/0 go test ./bot/slackbot/ -run '^$' -bench BenchmarkRepliesByStore -benchtime 4000x
func BenchmarkRepliesByStore(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		// As serve runs without REDIS_URL: the rate limit in memory.
		st := memStores()
		st.limit = bot.NewMemoryLimiter(20, time.Minute)
		benchReplies(b, st, nil)
	})
	b.Run("redis", func(b *testing.B) {
		rs := sharedRedisB(b, fmt.Sprintf("enrollbot-bench-%d:", rand.Uint64()))
		// As serve runs with REDIS_URL: the reply queue in Redis too.
		q, err := rs.Queue(context.Background(), "slack", "bench", redisstore.QueueOptions{})
		if err != nil {
			b.Fatal(err)
		}
		// And the rate limit in Redis, read with the language preference
		// and the conversation in one round trip (bot.TurnStarter).
		st := redisStores(rs)
		st.limit, st.start = rs, rs
		benchReplies(b, st, q)
	})
}

func benchReplies(b *testing.B, st stores, q queue.Backend) {
	fs := newFakeSlack(b)
	bt := newBot(b, fs, st, &counter{}, nil, func(c *Config) {
		c.MaxConcurrent = 64
		c.Queue = q
		// The client serve gives the bot.
		c.API = slack.New("xoxb-test", slack.OptionAPIURL(fs.apiURL()), slack.OptionHTTPClient(delivery.PooledClient(64, 15*time.Second)))
	})
	h, err := bt.Handler()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	var mu sync.Mutex
	sent := map[string]time.Time{}
	var latencies []time.Duration
	done := make(chan struct{}, b.N)
	fs.onCall = func(c apiCall) {
		if c.Method != "chat.postMessage" {
			return
		}
		mu.Lock()
		if t0, ok := sent[c.Form.Get("channel")]; ok {
			latencies = append(latencies, time.Since(t0))
		}
		mu.Unlock()
		done <- struct{}{}
	}

	run := rand.Uint64()
	// Slack sends events over connections it keeps open: so do the 16
	// senders (httptest's client keeps two idle, and most sends would
	// open a connection).
	client := delivery.PooledClient(16, 30*time.Second)
	jobs := make(chan int)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				channel := fmt.Sprintf("D%d-%d", run, i)
				body := eventBody(fmt.Sprintf("Ev%d-%d", run, i), messageEvent(channel, "im", fmt.Sprintf("U%d", i%500), "0x80180014", "1700000000.000100"))
				req, _ := http.NewRequest(http.MethodPost, srv.URL+PathEvents, bytes.NewReader(body))
				req.Header = sign(testSecret, time.Now(), body)
				req.Header.Set("Content-Type", "application/json")
				mu.Lock()
				sent[channel] = time.Now()
				mu.Unlock()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	for i := 0; i < b.N; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	for range b.N {
		<-done
	}
	elapsed := time.Since(start)
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = bt.Shutdown(ctx)

	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "replies/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "median-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}
