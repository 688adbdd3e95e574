package teamsbot

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// inbound is an activity as the Bot Framework posts it, the fields the bot
// reads. It keeps what msbotbuilder-go's schema.Activity loses (a
// mention's text) and takes value as raw JSON, so that no activity type's
// value can fail the parse; channelData, which the bot does not need, is
// not parsed at all.
type inbound struct {
	Type         string                     `json:"type"`
	ID           string                     `json:"id"`
	ServiceURL   string                     `json:"serviceUrl"`
	ChannelID    string                     `json:"channelId"`
	From         schema.ChannelAccount      `json:"from"`
	Recipient    schema.ChannelAccount      `json:"recipient"`
	Conversation schema.ConversationAccount `json:"conversation"`
	Text         string                     `json:"text"`
	Timestamp    string                     `json:"timestamp"`
	Locale       string                     `json:"locale"`
	ReplyToID    string                     `json:"replyToId"`
	Name         string                     `json:"name"`
	Entities     []entity                   `json:"entities"`
	Value        json.RawMessage            `json:"value"`
	MembersAdded []schema.ChannelAccount    `json:"membersAdded"`

	// turn names the turn for Sessions: set by the worker, not encoded.
	turn string
}

// entity is a mention or the client's info.
type entity struct {
	Type      string                `json:"type"`
	Mentioned schema.ChannelAccount `json:"mentioned"`
	Text      string                `json:"text"`
	Locale    string                `json:"locale"`
}

// parseActivity parses a request body. Anything but a JSON object with a
// type is refused.
func parseActivity(body []byte) (*inbound, error) {
	var in inbound
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("parse activity: %w", err)
	}
	if in.Type == "" {
		return nil, errors.New("parse activity: no type")
	}
	return &in, nil
}

// schemaActivity returns the activity as msbotbuilder-go models it, with
// what its dispatch, token validation and conversation references read.
func (in *inbound) schemaActivity() schema.Activity {
	return schema.Activity{
		Type:         schema.ActivityTypes(in.Type),
		ID:           in.ID,
		ServiceURL:   in.ServiceURL,
		ChannelID:    in.ChannelID,
		From:         in.From,
		Recipient:    in.Recipient,
		Conversation: in.Conversation,
		Text:         in.Text,
		Locale:       in.Locale,
		ReplyToID:    in.ReplyToID,
		Name:         in.Name,
		MembersAdded: in.MembersAdded,
	}
}

// scope is where an activity was sent.
type scope int

const (
	// scopePersonal is a one-to-one chat with the bot: always answered.
	scopePersonal scope = iota + 1
	// scopeChannel is a team's channel: answered when mentioned, in the
	// thread.
	scopeChannel
	// scopeGroup is a group chat: answered when mentioned.
	scopeGroup
)

// String names the scope as Teams does (conversationType).
func (s scope) String() string {
	switch s {
	case scopePersonal:
		return "personal"
	case scopeChannel:
		return "channel"
	case scopeGroup:
		return "groupChat"
	}
	return "unknown"
}

// scope tells where the activity was sent: conversationType, or for
// clients that send none (the Emulator) isGroup.
func (in *inbound) scope() scope {
	switch in.Conversation.ConversationType {
	case "personal":
		return scopePersonal
	case "channel":
		return scopeChannel
	case "groupChat":
		return scopeGroup
	case "":
		if in.Conversation.IsGroup {
			return scopeGroup
		}
		return scopePersonal
	}
	return 0
}

// user identifies the sender across conversations: the Entra object id
// when Teams sends it, the channel account id otherwise.
func (in *inbound) user() string {
	if in.From.AadObjectID != "" {
		return in.From.AadObjectID
	}
	return in.From.ID
}

// sessionUser is the user as Sessions knows them: channel-scoped, so that
// the rate limit, the language preference and verdicts are the user's in
// Teams alone; empty when the activity names no sender.
func (in *inbound) sessionUser() string {
	if u := in.user(); u != "" {
		return "teams:" + u
	}
	return ""
}

// locale is the client's locale: the activity's, or its clientInfo's.
func (in *inbound) locale() string {
	if in.Locale != "" {
		return in.Locale
	}
	for _, e := range in.Entities {
		if e.Type == "clientInfo" && e.Locale != "" {
			return e.Locale
		}
	}
	return ""
}

// mentionsBot reports whether the message @mentions the bot.
func (in *inbound) mentionsBot() bool {
	for _, e := range in.Entities {
		if e.Type == "mention" && e.Mentioned.ID != "" && e.Mentioned.ID == in.Recipient.ID {
			return true
		}
	}
	return false
}

// fromSelf reports whether the bot sent the activity itself.
func (in *inbound) fromSelf() bool {
	return in.From.ID != "" && in.From.ID == in.Recipient.ID
}

// thread returns the conversation a reply goes to: in a channel, the
// thread (Teams' conversation id ends in ;messageid= and the thread's
// first message); elsewhere the chat.
func (in *inbound) thread() string {
	conv := in.Conversation.ID
	if in.scope() == scopeChannel && !strings.Contains(conv, ";messageid=") && in.ID != "" {
		return conv + ";messageid=" + in.ID
	}
	return conv
}

// conversationKey is the key Sessions keeps the conversation under: a
// channel thread, a group chat, a personal chat.
func (in *inbound) conversationKey() string {
	return "teams:" + in.thread()
}

// atTag matches a mention's markup in a message's text.
var atTag = regexp.MustCompile(`(?is)<at(?:\s[^>]*)?>(.*?)</at>`)

// htmlTag matches the markup Teams may leave in a message's text.
var htmlTag = regexp.MustCompile(`(?is)</?(?:p|div|span|br|b|i|strong|em|u|s|a|font|pre|code|blockquote)(?:\s[^>]*)?/?>`)

// cleanText returns what the user wrote: the message's text without the
// bot's mention (Teams puts <at>name</at> in the text, and the mention
// entity's text is the same markup), with other people's mentions as
// their names, markup removed and entities decoded.
func (in *inbound) cleanText() string {
	text := in.Text
	for _, e := range in.Entities {
		if e.Type == "mention" && e.Mentioned.ID == in.Recipient.ID && e.Text != "" {
			text = strings.ReplaceAll(text, e.Text, " ")
		}
	}
	botName := strings.TrimSpace(in.Recipient.Name)
	text = atTag.ReplaceAllStringFunc(text, func(m string) string {
		name := strings.TrimSpace(atTag.FindStringSubmatch(m)[1])
		if botName != "" && strings.EqualFold(html.UnescapeString(name), botName) {
			return " "
		}
		return name
	})
	text = htmlTag.ReplaceAllStringFunc(text, func(tag string) string {
		if blockEnd.MatchString(tag) {
			return "\n"
		}
		return ""
	})
	text = html.UnescapeString(text)
	// Spaces the removals left, and Teams' non-breaking ones, fold; lines
	// stay.
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// blockEnd matches the tags that end a line.
var blockEnd = regexp.MustCompile(`(?i)^<(?:br|/p|/div)\b`)

// deepLink opens the activity's channel thread in Teams, for the people a
// conversation is handed to; empty outside channels (chats are private).
func (in *inbound) deepLink() string {
	if in.scope() != scopeChannel {
		return ""
	}
	channel, msg, ok := strings.Cut(in.thread(), ";messageid=")
	if !ok || channel == "" || msg == "" {
		return ""
	}
	q := url.Values{"parentMessageId": {msg}}
	if in.Conversation.TenantID != "" {
		q.Set("tenantId", in.Conversation.TenantID)
	}
	return "https://teams.microsoft.com/l/message/" + url.PathEscape(channel) + "/" + url.PathEscape(msg) + "?" + q.Encode()
}
