package slackbot

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// TestSocketMode plays Slack's side of Socket Mode: apps.connections.open
// hands out a WebSocket URL, and over it come an event, a slash command, a
// button click and an envelope slack-go cannot parse. Every envelope must
// be acknowledged, and the event and command answered as over HTTP.
func TestSocketMode(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	acked := map[string]bool{}
	connected := make(chan struct{}, 4)
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	e.slack.ws = func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.Close()
		connected <- struct{}{}
		send := func(v any) {
			if err := conn.WriteJSON(v); err != nil {
				t.Logf("write: %v", err)
			}
		}
		send(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0001"}})
		var payload map[string]any
		_ = json.Unmarshal(eventBody("EvSock", messageEvent("D0030", "im", "U0030", "0x80180014", "1700000000.003000")), &payload)
		send(map[string]any{"envelope_id": "env-event", "type": "events_api", "payload": payload, "accepts_response_payload": false, "retry_attempt": 0})
		send(map[string]any{"envelope_id": "env-command", "type": "slash_commands", "accepts_response_payload": true, "payload": map[string]any{
			"token": "x", "team_id": testTeam, "channel_id": "C0030", "user_id": "U0031", "command": "/enroll",
			"text": "0x80180010", "response_url": e.slack.responseURL("sock"), "trigger_id": "1.2.3"}})
		var click map[string]any
		_ = json.Unmarshal([]byte(`{"type":"block_actions","user":{"id":"U0031"},"channel":{"id":"C0030"},"container":{"type":"message","message_ts":"1.2","channel_id":"C0030","is_ephemeral":true},"response_url":"`+
			e.slack.responseURL("sock-click")+`","actions":[{"action_id":"enroll_not_solved","block_id":"enroll_answer","type":"button","value":"{\"e\":\"device-cap-reached\",\"l\":\"en\"}"}]}`), &click)
		send(map[string]any{"envelope_id": "env-click", "type": "interactive", "accepts_response_payload": false, "payload": click})
		send(map[string]any{"envelope_id": "env-unknown", "type": "events_api", "payload": map[string]any{
			"type": "event_callback", "event_id": "EvOdd", "event": map[string]any{"type": "a_type_slack_go_does_not_know"}}})
		for {
			var ack struct {
				EnvelopeID string `json:"envelope_id"`
			}
			if err := conn.ReadJSON(&ack); err != nil {
				return
			}
			mu.Lock()
			acked[ack.EnvelopeID] = true
			mu.Unlock()
		}
	}

	api := slack.New("xoxb-test", slack.OptionAPIURL(e.slack.apiURL()), slack.OptionAppLevelToken("xapp-1-test"))
	e.bot.api = api
	smc := socketmode.New(api)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.bot.RunSocketMode(ctx, smc) }()

	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("socket mode never connected")
	}
	post := e.slack.waitFor(t, "chat.postMessage", 1)[0]
	if post.Form.Get("channel") != "D0030" || headerText(post.blocks(t)) == "" {
		t.Errorf("event over socket mode: %v", post.Form)
	}
	// The command is answered privately; so is Not solved on a private
	// answer: the next thing to try, below it.
	if cmd := e.slack.waitResponse(t, "sock", 1); cmd.JSON["response_type"] != "ephemeral" || headerText(cmd.blocks(t)) == "" {
		t.Errorf("command over socket mode: %v", cmd.JSON)
	}
	if click := e.slack.waitResponse(t, "sock-click", 1); click.JSON["response_type"] != "ephemeral" || len(click.blocks(t)) == 0 {
		t.Errorf("click over socket mode: %v", click.JSON)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		all := acked["env-event"] && acked["env-command"] && acked["env-click"] && acked["env-unknown"]
		mu.Unlock()
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acknowledged %d of 4 envelopes: %v", n, acked)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunSocketMode: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunSocketMode did not return after cancel")
	}
}

func TestSocketModeInvalidToken(t *testing.T) {
	e := newEnv(t)
	e.slack.errors["apps.connections.open"] = "invalid_auth"
	api := slack.New("xoxb-test", slack.OptionAPIURL(e.slack.apiURL()), slack.OptionAppLevelToken("xapp-1-bad"))
	err := e.bot.RunSocketMode(context.Background(), socketmode.New(api))
	if err == nil {
		t.Fatal("an invalid app token did not stop socket mode")
	}
}
