// Package redisstore keeps enrollbot's shared state in Redis, so that
// several replicas behind a load balancer behave as one: conversations,
// event dedupe, language preferences, rate-limit counters, feedback and the
// log of unanswered questions. It implements the store interfaces of
// package bot.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// Options tune a Store. Zero values take the defaults.
type Options struct {
	// Prefix namespaces every key; default "enrollbot:".
	Prefix string
	// Timeout bounds every Redis call so that an unreachable Redis gives an
	// error, not a hang; default 500 ms.
	Timeout time.Duration
	// RateLimit turns per user per RateWindow; defaults 20 per minute.
	RateLimit  int
	RateWindow time.Duration
	// MaxUnanswered bounds the unanswered log; default 1,000 texts.
	MaxUnanswered int
}

// Store is the Redis-backed state. It is safe for concurrent use.
type Store struct {
	rdb  *redis.Client
	opts Options
}

// Interfaces Store implements; checked at compile time.
var (
	_ bot.Store         = (*Store)(nil)
	_ bot.Preferences   = (*Store)(nil)
	_ bot.Dedupe        = (*Store)(nil)
	_ bot.FeedbackStore = (*Store)(nil)
	_ bot.RateLimiter   = (*Store)(nil)
	_ bot.TurnStarter   = (*Store)(nil)
	_ bot.UnansweredLog = (*Store)(nil)
)

// Open connects to the Redis at url (redis://host:port/db) and checks that
// it answers. The client reconnects by itself: a Redis that goes away and
// comes back needs no restart.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	ro, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if opts.Prefix == "" {
		opts.Prefix = "enrollbot:"
	}
	if opts.Timeout == 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 20
	}
	if opts.RateWindow == 0 {
		opts.RateWindow = time.Minute
	}
	if opts.MaxUnanswered == 0 {
		opts.MaxUnanswered = 1000
	}
	ro.DialTimeout = opts.Timeout
	ro.ReadTimeout = opts.Timeout
	ro.WriteTimeout = opts.Timeout
	ro.PoolTimeout = opts.Timeout
	ro.MaxRetries = 1
	s := &Store{rdb: redis.NewClient(ro), opts: opts}
	if err := s.Ping(ctx); err != nil {
		_ = s.rdb.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the connections.
func (s *Store) Close() error { return s.rdb.Close() }

// Ping reports whether Redis answers, for readiness checks.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping %s: %w", s.rdb.Options().Addr, err)
	}
	return nil
}

func (s *Store) key(parts ...string) string {
	return s.opts.Prefix + strings.Join(parts, ":")
}

// call bounds one Redis round trip.
func (s *Store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// Conversation implements bot.Store.
func (s *Store) Conversation(ctx context.Context, key string) (bot.State, bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return decodeConversation(key, s.rdb.Get(ctx, s.key("conv", key)))
}

// decodeConversation reads a GET of a conversation.
func decodeConversation(key string, cmd *redis.StringCmd) (bot.State, bool, error) {
	data, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return bot.State{}, false, nil
	}
	if err != nil {
		return bot.State{}, false, fmt.Errorf("redis get conversation: %w", err)
	}
	var st bot.State
	if err := json.Unmarshal(data, &st); err != nil {
		return bot.State{}, false, fmt.Errorf("decode conversation %s: %w", key, err)
	}
	return st, true, nil
}

// SaveConversation implements bot.Store.
func (s *Store) SaveConversation(ctx context.Context, key string, st bot.State, ttl time.Duration) error {
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode conversation: %w", err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.rdb.Set(ctx, s.key("conv", key), data, ttl).Err(); err != nil {
		return fmt.Errorf("redis set conversation: %w", err)
	}
	return nil
}

// Lang implements bot.Preferences.
func (s *Store) Lang(ctx context.Context, user string) (kb.Lang, bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	return decodeLang(s.rdb.HGet(ctx, s.key("pref", "lang"), user))
}

// decodeLang reads an HGET of a language preference.
func decodeLang(cmd *redis.StringCmd) (kb.Lang, bool, error) {
	v, err := cmd.Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redis get language preference: %w", err)
	}
	lang := kb.Lang(v)
	return lang, lang.Valid(), nil
}

// SetLang implements bot.Preferences.
func (s *Store) SetLang(ctx context.Context, user string, lang kb.Lang) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var err error
	if lang == "" {
		err = s.rdb.HDel(ctx, s.key("pref", "lang"), user).Err()
	} else {
		err = s.rdb.HSet(ctx, s.key("pref", "lang"), user, string(lang)).Err()
	}
	if err != nil {
		return fmt.Errorf("redis set language preference: %w", err)
	}
	return nil
}

// SetIfAbsent implements bot.Dedupe with SET NX: atomic across replicas.
//
// The claim carries a token of this call: when the client retries a SET
// whose reply was lost after it ran, the key holds our own token, and the
// claim is still ours rather than "taken".
func (s *Store) SetIfAbsent(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var b [12]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	k := s.key("seen", key)
	err := s.rdb.SetArgs(ctx, k, token, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		held, gerr := s.rdb.Get(ctx, k).Result()
		if gerr != nil && !errors.Is(gerr, redis.Nil) {
			return false, fmt.Errorf("redis dedupe: read claim: %w", gerr)
		}
		return held == token, nil
	}
	if err != nil {
		return false, fmt.Errorf("redis dedupe: %w", err)
	}
	return true, nil
}

// feedbackTTL is how long an entry's verdicts live after the last one.
const feedbackTTL = 365 * 24 * time.Hour

// RecordFeedback implements bot.FeedbackStore: one verdict per message and
// user, the latest winning.
func (s *Store) RecordFeedback(ctx context.Context, f bot.Feedback) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	v := "0"
	if f.Solved {
		v = "1"
	}
	// Verdicts are kept for a year: the report reads recent feedback, and
	// no key lives forever.
	k := s.key("feedback", f.Entry)
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, k, f.Message+"\x00"+f.User, v)
	pipe.Expire(ctx, k, feedbackTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis record feedback: %w", err)
	}
	return nil
}

// FeedbackCounts implements bot.FeedbackStore.
func (s *Store) FeedbackCounts(ctx context.Context, entry string) (bot.FeedbackCounts, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	vals, err := s.rdb.HVals(ctx, s.key("feedback", entry)).Result()
	if err != nil {
		return bot.FeedbackCounts{}, fmt.Errorf("redis feedback counts: %w", err)
	}
	var c bot.FeedbackCounts
	for _, v := range vals {
		if v == "1" {
			c.Solved++
		} else {
			c.NotSolved++
		}
	}
	return c, nil
}

// Allow implements bot.RateLimiter with a fixed window per user: INCR, and
// EXPIRE on the window's first turn.
func (s *Store) Allow(ctx context.Context, user string) (bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	pipe := s.rdb.TxPipeline()
	incr := s.count(ctx, pipe, user)
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("redis rate limit: %w", err)
	}
	return incr.Val() <= int64(s.opts.RateLimit), nil
}

// count queues the INCR and EXPIRE of user's turn in the current window.
func (s *Store) count(ctx context.Context, pipe redis.Pipeliner, user string) *redis.IntCmd {
	window := time.Now().UnixNano() / int64(s.opts.RateWindow)
	k := s.key("rate", user, strconv.FormatInt(window, 10))
	incr := pipe.Incr(ctx, k)
	pipe.Expire(ctx, k, s.opts.RateWindow+time.Second)
	return incr
}

// StartTurn implements bot.TurnStarter: the language preference's HGET,
// the rate limit's INCR and EXPIRE and the conversation's GET in one
// MULTI/EXEC, one round trip where the three calls take three.
func (s *Store) StartTurn(ctx context.Context, q bot.TurnQuery) bot.TurnStart {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var (
		lang, conv *redis.StringCmd
		incr       *redis.IntCmd
	)
	pipe := s.rdb.TxPipeline()
	if q.Lang {
		lang = pipe.HGet(ctx, s.key("pref", "lang"), q.User)
	}
	if q.Limit {
		incr = s.count(ctx, pipe, q.User)
	}
	if q.Conversation {
		conv = pipe.Get(ctx, s.key("conv", q.Key))
	}
	var r bot.TurnStart
	if lang == nil && incr == nil && conv == nil {
		return r
	}
	// Exec's error is the first failed command's (redis.Nil for a missing
	// key); a failed round trip sets it on every command. Each part reads
	// its own.
	_, _ = pipe.Exec(ctx)
	if lang != nil {
		r.Lang, r.LangOK, r.LangErr = decodeLang(lang)
	}
	if incr != nil {
		if err := incr.Err(); err != nil {
			r.LimitErr = fmt.Errorf("redis rate limit: %w", err)
		} else {
			r.Allowed = incr.Val() <= int64(s.opts.RateLimit)
		}
	}
	if conv != nil {
		r.State, r.StateOK, r.StateErr = decodeConversation(q.Key, conv)
	}
	return r
}

// RecordUnanswered implements bot.UnansweredLog with a sorted set, trimmed
// to the most frequent texts.
func (s *Store) RecordUnanswered(ctx context.Context, text string) error {
	if text = bot.NormalizeUnanswered(text); text == "" {
		return nil
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	k := s.key("unanswered")
	pipe := s.rdb.TxPipeline()
	pipe.ZIncrBy(ctx, k, 1, text)
	// Keep the top; a text that dropped out starts counting again.
	pipe.ZRemRangeByRank(ctx, k, 0, int64(-s.opts.MaxUnanswered-1))
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis record unanswered: %w", err)
	}
	return nil
}

// TopUnanswered implements bot.UnansweredLog.
func (s *Store) TopUnanswered(ctx context.Context, n int) ([]bot.Unanswered, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	zs, err := s.rdb.ZRevRangeWithScores(ctx, s.key("unanswered"), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis top unanswered: %w", err)
	}
	out := make([]bot.Unanswered, 0, len(zs))
	for _, z := range zs {
		text, _ := z.Member.(string)
		out = append(out, bot.Unanswered{Text: text, Count: int(z.Score)})
	}
	return out, nil
}

// maxTickets bounds the tickets a report reads.
const maxTickets = 10000

// SaveTicket implements bot.Tickets: the ticket as JSON under its id, and
// indexes from its conversation and references. Tickets do not expire:
// with AOF persistence (docker-compose.yml) a restart loses none.
func (s *Store) SaveTicket(ctx context.Context, t bot.TicketRecord) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode ticket %s: %w", t.ID, err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	pipe := s.rdb.TxPipeline()
	pipe.Set(ctx, s.key("ticket", t.ID), data, 0)
	pipe.ZAdd(ctx, s.key("tickets"), redis.Z{Score: float64(t.Created.Unix()), Member: t.ID})
	if t.Conversation != "" {
		pipe.Set(ctx, s.key("ticket-conv", t.Conversation), t.ID, 0)
	}
	refs := []string{t.Ref}
	for _, r := range t.Refs {
		refs = append(refs, r)
	}
	for _, r := range refs {
		if r != "" && r != t.ID {
			pipe.Set(ctx, s.key("ticket-ref", r), t.ID, 0)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis save ticket %s: %w", t.ID, err)
	}
	return nil
}

func (s *Store) ticket(ctx context.Context, id string) (bot.TicketRecord, bool, error) {
	data, err := s.rdb.Get(ctx, s.key("ticket", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return bot.TicketRecord{}, false, nil
	}
	if err != nil {
		return bot.TicketRecord{}, false, fmt.Errorf("redis get ticket %s: %w", id, err)
	}
	var t bot.TicketRecord
	if err := json.Unmarshal(data, &t); err != nil {
		return bot.TicketRecord{}, false, fmt.Errorf("decode ticket %s: %w", id, err)
	}
	return t, true, nil
}

// ticketVia follows an index key to its ticket.
func (s *Store) ticketVia(ctx context.Context, index string) (bot.TicketRecord, bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	id, err := s.rdb.Get(ctx, index).Result()
	if errors.Is(err, redis.Nil) {
		return bot.TicketRecord{}, false, nil
	}
	if err != nil {
		return bot.TicketRecord{}, false, fmt.Errorf("redis get %s: %w", index, err)
	}
	return s.ticket(ctx, id)
}

// TicketOf implements bot.Tickets.
func (s *Store) TicketOf(ctx context.Context, conversation string) (bot.TicketRecord, bool, error) {
	return s.ticketVia(ctx, s.key("ticket-conv", conversation))
}

// TicketByRef implements bot.Tickets.
func (s *Store) TicketByRef(ctx context.Context, ref string) (bot.TicketRecord, bool, error) {
	if t, ok, err := s.ticketVia(ctx, s.key("ticket-ref", ref)); ok || err != nil {
		return t, ok, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	return s.ticket(ctx, ref)
}

// AllTickets implements bot.Tickets, oldest first, up to maxTickets.
func (s *Store) AllTickets(ctx context.Context) ([]bot.TicketRecord, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	ids, err := s.rdb.ZRange(ctx, s.key("tickets"), 0, maxTickets-1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis list tickets: %w", err)
	}
	out := make([]bot.TicketRecord, 0, len(ids))
	for _, id := range ids {
		t, ok, err := s.ticket(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// Setting implements bot.Settings.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.key("setting", key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redis get setting %s: %w", key, err)
	}
	return v, true, nil
}

// SetSetting implements bot.Settings; settings do not expire.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var err error
	if value == "" {
		err = s.rdb.Del(ctx, s.key("setting", key)).Err()
	} else {
		err = s.rdb.Set(ctx, s.key("setting", key), value, 0).Err()
	}
	if err != nil {
		return fmt.Errorf("redis set setting %s: %w", key, err)
	}
	return nil
}
