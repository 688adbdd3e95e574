package delivery

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPooledClientReusesConnections sends rounds of concurrent calls and
// counts the connections the server sees: after the first round, the pool
// keeps every connection, where Go's default client (two idle per host)
// opens most of them again.
func TestPooledClientReusesConnections(t *testing.T) {
	const inFlight = 16
	var opened atomic.Int64
	release := make(chan struct{})
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release // every call of a round is in flight at once
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	rounds := func(c *http.Client) int64 {
		opened.Store(0)
		for range 3 {
			arrived.Add(inFlight)
			var done sync.WaitGroup
			for range inFlight {
				done.Go(func() {
					resp, err := c.Get(srv.URL)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				})
			}
			arrived.Wait()
			release <- struct{}{}
			for range inFlight - 1 {
				release <- struct{}{}
			}
			done.Wait()
		}
		c.CloseIdleConnections()
		return opened.Load()
	}
	if got := rounds(PooledClient(inFlight, 5*time.Second)); got != inFlight {
		t.Errorf("pooled client: %d connections for 3 rounds of %d calls, want %d", got, inFlight, inFlight)
	}
	// The comparison that makes the test mean something: Go's default.
	plain := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if got := rounds(plain); got < 2*inFlight {
		t.Errorf("default client: only %d connections; the test no longer tells pooling apart", got)
	}
}
