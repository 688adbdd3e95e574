// Package tcpproxy forwards TCP connections to a target and can be cut and
// restored, or lose replies, for tests that play a backend (Redis) going
// away and coming back, or a network that drops what the backend answered.
package tcpproxy

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
)

// Proxy forwards connections from its address to a target.
type Proxy struct {
	target string
	// drop is the fraction of replies lost, in millionths.
	drop    atomic.Int64
	dropped atomic.Int64

	mu    sync.Mutex
	addr  string
	ln    net.Listener
	conns []net.Conn
}

// Start listens on a free loopback port and forwards to target.
func Start(target string) (*Proxy, error) {
	p := &Proxy{target: target}
	if err := p.listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return p, nil
}

// Addr is where the proxy listens; it stays the same across Cut and Restore.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Cut closes the listener and every forwarded connection: the target is gone.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Restore listens again on the same address.
func (p *Proxy) Restore() error { return p.listen(p.Addr()) }

func (p *Proxy) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("proxy listen %s: %w", addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { p.replies(c, up); c.Close() }()
		}
	}()
	return nil
}

// DropReplies makes the proxy lose the given fraction (0–1) of what the
// target sends back: the reply is dropped and its connection closed, as a
// network failure after the target acted on the request would.
func (p *Proxy) DropReplies(fraction float64) {
	p.drop.Store(int64(fraction * 1e6))
}

// replies forwards up's replies to c, dropping some when asked to.
func (p *Proxy) replies(c, up net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			if d := p.drop.Load(); d > 0 && rand.Int64N(1e6) < d {
				p.dropped.Add(1)
				up.Close()
				return
			}
			if _, werr := c.Write(buf[:n]); werr != nil {
				up.Close()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Dropped counts the replies dropped so far.
func (p *Proxy) Dropped() int { return int(p.dropped.Load()) }
