package delivery

import (
	"net/http"
	"time"
)

// PooledTransport returns Go's default transport with a pool that keeps
// conns idle connections per host: as many as calls can be in flight.
// Go's default keeps two, so under load most calls to a chat platform or
// a ticket system would open a new connection (a TLS handshake each).
func PooledTransport(conns int) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	tr.MaxIdleConns = max(tr.MaxIdleConns, conns)
	return tr
}

// PooledClient returns an HTTP client over PooledTransport(conns) whose
// calls each end after timeout.
func PooledClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: PooledTransport(conns)}
}
