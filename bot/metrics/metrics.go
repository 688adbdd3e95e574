// Package metrics exposes what enrollbot does in the Prometheus text
// format: requests by channel and status, reply outcomes and latency, chat
// API retries and dedupe hits. It implements bot.Observer.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/enrollbot/enrollbot/bot"
)

// Metrics holds enrollbot's collectors in a registry of its own, so that
// tests and several servers in one process do not collide.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	replies        *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	retries        *prometheus.CounterVec
	dedupe         *prometheus.CounterVec
	gaveUp         *prometheus.CounterVec
	handoffs       *prometheus.CounterVec
	trackerRetries *prometheus.CounterVec
	tickets        *prometheus.GaugeVec
}

var _ bot.Observer = (*Metrics)(nil)

// New registers the collectors, plus the Go runtime's and the process's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enrollbot_http_requests_total",
			Help: "HTTP requests by channel (slack, teams, ops) and status code.",
		}, []string{"channel", "code"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enrollbot_replies_total",
			Help: "Replies computed, by outcome (answer, choices, code, clarify, limited).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "enrollbot_reply_duration_seconds",
			Help:    "Time to compute a reply (matching and conversation state), by outcome.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enrollbot_api_retries_total",
			Help: "Chat platform API calls retried after a 429 or a transient failure, by channel.",
		}, []string{"channel"}),
		dedupe: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enrollbot_dedupe_hits_total",
			Help: "Deliveries dropped because another delivery of the same event was handled, by channel.",
		}, []string{"channel"}),
		gaveUp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enrollbot_replies_given_up_total",
			Help: "Replies not delivered: the chat platform kept failing, or the reply waited, past the bound on a reply's life (10 minutes by default), by channel.",
		}, []string{"channel"}),
		handoffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enrollbot_handoffs_total",
			Help: "Hand-offs to people by destination (jira, servicenow, webhook, slack-experts) and outcome (created, commented, failed).",
		}, []string{"destination", "outcome"}),
		trackerRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "enrollbot_tracker_retries_total",
			Help: "Ticket tracker calls retried after a 429, a 5xx or a network failure, by destination.",
		}, []string{"destination"}),
		tickets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "enrollbot_tickets",
			Help: "Tickets in the store by state (open, taken, resolved), and pending in the outbox; refreshed every minute.",
		}, []string{"state"}),
	}
	m.reg.MustRegister(m.requests, m.replies, m.latency, m.retries, m.dedupe, m.gaveUp, m.handoffs, m.trackerRetries, m.tickets,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// HandedOff implements itsm.Observer.
func (m *Metrics) HandedOff(destination, outcome string) {
	m.handoffs.WithLabelValues(destination, outcome).Inc()
}

// TrackerRetry implements itsm.Observer.
func (m *Metrics) TrackerRetry(destination string) {
	m.trackerRetries.WithLabelValues(destination).Inc()
}

// Tickets implements itsm.Observer.
func (m *Metrics) Tickets(counts map[string]int) {
	for state, n := range counts {
		m.tickets.WithLabelValues(state).Set(float64(n))
	}
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Instrument counts h's responses under channel.
func (m *Metrics) Instrument(channel string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.requests.WithLabelValues(channel, strconv.Itoa(sw.code)).Inc()
	})
}

// Replied implements bot.Observer.
func (m *Metrics) Replied(kind bot.Kind, took time.Duration) {
	m.replies.WithLabelValues(string(kind)).Inc()
	m.latency.WithLabelValues(string(kind)).Observe(took.Seconds())
}

// APIRetry implements bot.Observer.
func (m *Metrics) APIRetry(channel string) { m.retries.WithLabelValues(channel).Inc() }

// DedupeHit implements bot.Observer.
func (m *Metrics) DedupeHit(channel string) { m.dedupe.WithLabelValues(channel).Inc() }

// GaveUp implements bot.Observer.
func (m *Metrics) GaveUp(channel string) { m.gaveUp.WithLabelValues(channel).Inc() }

type statusWriter struct {
	http.ResponseWriter
	code    int
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		w.code, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
