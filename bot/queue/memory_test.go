package queue_test

import (
	"testing"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/queue"
	"github.com/enrollbot/enrollbot/internal/bottest"
)

func TestMemoryContract(t *testing.T) {
	bottest.QueueContract(t, func(t *testing.T, _ string) queue.Backend {
		return queue.NewMemory(bot.NewMemoryDedupe(), 0)
	})
}
