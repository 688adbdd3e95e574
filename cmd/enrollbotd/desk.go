package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/delivery"
	"github.com/enrollbot/enrollbot/bot/itsm"
	slackbot "github.com/enrollbot/enrollbot/bot/slackbot"
	teamsbot "github.com/enrollbot/enrollbot/bot/teamsbot"
)

// deskTimeout bounds one call to a tracker; the user waits on it.
const deskTimeout = 10 * time.Second

// newDesk builds the desk the environment configures: Jira when
// JIRA_BASE_URL is set, ServiceNow when SERVICENOW_INSTANCE_URL is, the
// webhook when ENROLLBOT_TICKET_WEBHOOK_URL is, told to channels (an
// experts channel). None: nil, and users get the summary to copy.
func newDesk(getenv func(string) string, tickets bot.Tickets, dedupe bot.Dedupe, obs itsm.Observer, logger *slog.Logger, channels ...itsm.Tracker) (*itsm.Desk, error) {
	for _, name := range []string{"JIRA_BASE_URL", "SERVICENOW_INSTANCE_URL", "ENROLLBOT_TICKET_WEBHOOK_URL"} {
		if u := getenv(name); u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return nil, fmt.Errorf("%s %q is not an http(s) URL", name, u)
		}
	}
	// Hand-offs are filed from the adapters' reply workers: as many calls
	// can be in flight as there are workers.
	client := delivery.PooledClient(slackbot.DefaultMaxConcurrent+teamsbot.DefaultMaxConcurrent, deskTimeout)
	var trackers []itsm.Tracker
	if u := getenv("JIRA_BASE_URL"); u != "" {
		j := &itsm.Jira{BaseURL: u, Email: getenv("JIRA_EMAIL"), Token: getenv("JIRA_API_TOKEN"),
			Project: getenv("JIRA_PROJECT_KEY"), Kind: getenv("JIRA_ISSUE_TYPE"), Client: client}
		if j.Email == "" || j.Token == "" || j.Project == "" {
			return nil, errors.New("JIRA_EMAIL, JIRA_API_TOKEN and JIRA_PROJECT_KEY are required with JIRA_BASE_URL")
		}
		trackers = append(trackers, j)
	}
	if u := getenv("SERVICENOW_INSTANCE_URL"); u != "" {
		s := &itsm.ServiceNow{InstanceURL: u, User: getenv("SERVICENOW_USER"), Password: getenv("SERVICENOW_PASSWORD"), Client: client}
		if s.User == "" || s.Password == "" {
			return nil, errors.New("SERVICENOW_USER and SERVICENOW_PASSWORD are required with SERVICENOW_INSTANCE_URL")
		}
		trackers = append(trackers, s)
	}
	if u := getenv("ENROLLBOT_TICKET_WEBHOOK_URL"); u != "" {
		w := &itsm.Webhook{URL: u, Secret: getenv("ENROLLBOT_TICKET_WEBHOOK_SECRET"), Client: client, NewID: itsm.NewID}
		if w.Secret == "" {
			return nil, errors.New("ENROLLBOT_TICKET_WEBHOOK_SECRET is required with ENROLLBOT_TICKET_WEBHOOK_URL: the receiver must be able to tell the bot's calls")
		}
		trackers = append(trackers, w)
	}
	if len(trackers)+len(channels) == 0 {
		return nil, nil
	}
	d, err := itsm.NewDesk(itsm.DeskConfig{Trackers: trackers, Channels: channels, Tickets: tickets, Dedupe: dedupe, Observer: obs, Logger: logger,
		Retry: delivery.Retry{Max: 2, Backoff: 500 * time.Millisecond}})
	if err != nil {
		return nil, fmt.Errorf("ticket desk: %w", err)
	}
	return d, nil
}
