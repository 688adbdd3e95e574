package slackbot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkEventsEndpoint measures POST /slack/events over loopback, client
// included: read the body, verify the signature, parse, decide and
// acknowledge.
//
//	go test ./bot/slackbot/ -run '^$' -bench BenchmarkEventsEndpoint -benchmem
//
// "ignored" is a bot message, acknowledged without further work;
// "answered" is a direct message with a fresh event id, which also claims
// the id and starts the reply (the reply itself runs after the
// acknowledgement, against a fake Slack, and is waited for at the end).
func BenchmarkEventsEndpoint(b *testing.B) {
	b.Run("ignored", func(b *testing.B) {
		send, _ := benchServer(b)
		ev := messageEvent("C0001", "channel", "", "0x80180014", "1700000000.000100")
		ev["subtype"], ev["bot_id"] = "bot_message", "B0999"
		body := eventBody("EvBench", ev)
		hdr := sign(testSecret, time.Now(), body)
		b.ReportAllocs()
		for b.Loop() {
			send(body, hdr.Clone())
		}
	})

	b.Run("answered", func(b *testing.B) {
		send, bt := benchServer(b)
		const distinct = 4096
		bodies := make([][]byte, distinct)
		hdrs := make([]http.Header, distinct)
		round := 0
		prepare := func() {
			for i := range bodies {
				bodies[i] = eventBody(fmt.Sprintf("EvBench%d-%d", round, i),
					messageEvent("D0001", "im", "U0001", "0x80180014", "1700000000.000100"))
				hdrs[i] = sign(testSecret, time.Now(), bodies[i])
			}
			round++
		}
		prepare()
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if i == distinct {
				b.StopTimer()
				prepare()
				i = 0
				b.StartTimer()
			}
			send(bodies[i], hdrs[i].Clone())
			i++
		}
		// The replies started are part of the cost: wait for them.
		_ = bt.queue.Idle(context.Background())
	})
}

// benchServer starts a Bot over loopback against a fake Slack and returns
// a function that posts a signed events request to it.
func benchServer(b *testing.B) (func(body []byte, hdr http.Header), *Bot) {
	b.Helper()
	fs := newFakeSlack(b)
	bt := newBot(b, fs, memStores(), &counter{}, nil, func(c *Config) { c.MaxConcurrent = 64 })
	h, err := bt.Handler()
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := bt.Shutdown(ctx); err != nil {
			b.Error(err)
		}
	})
	client := srv.Client()
	return func(body []byte, hdr http.Header) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+PathEvents, bytes.NewReader(body))
		req.Header = hdr
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}, bt
}
