package bottest

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisURL returns REDIS_URL, skipping the test without it. CI sets it on
// purpose: a test that then cannot reach Redis fails.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		t.Skip("REDIS_URL not set")
	}
	return u
}

// RemoveRedisKeys deletes the keys under prefix in the Redis at REDIS_URL
// when t ends, so that runs do not pile up in the machine's Redis (reply
// streams keep no TTL). Called before the stores under prefix are opened,
// it runs after they are closed.
func RemoveRedisKeys(t testing.TB, prefix string) {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL(t))
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	t.Cleanup(func() {
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			if keys = append(keys, iter.Val()); len(keys) == 1000 {
				rdb.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			rdb.Unlink(ctx, keys...)
		}
		if err := iter.Err(); err != nil {
			t.Errorf("remove test keys %s*: %v", prefix, err)
		}
	})
}
