package teamsbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/connector/client"
	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/itsm"
	"github.com/enrollbot/enrollbot/kb"
)

// expertsSetting is the Settings key of the registered experts channel.
const expertsSetting = "teams-experts"

// The experts' card's buttons (submitData.Action); not engine inputs.
const (
	ticketTake    = "ticket_take"
	ticketResolve = "ticket_resolve"
	ticketGap     = "ticket_gap"
)

// expertsChannel is where hand-offs go in Teams, as registered by
// "@enrollbot experts here" in a team's channel.
type expertsChannel struct {
	ServiceURL string `json:"service_url"`
	Channel    string `json:"channel"`
	Tenant     string `json:"tenant,omitempty"`
}

// expertsCommands are the words that register ("experts here") and
// remove ("experts off") the experts channel, in the four languages.
var expertsCommands = map[string]bool{
	"experts here": true, "experts hier": true, "experter här": true, "experten hier": true,
	"experts off": false, "experts uit": false, "experter av": false, "experten aus": false,
}

// expertsCommand reads a channel message addressed to the bot as the
// experts command; ok is false for anything else.
func expertsCommand(text string) (on, ok bool) {
	t := strings.ToLower(strings.Join(strings.Fields(strings.Trim(text, " .!")), " "))
	on, ok = expertsCommands[t]
	return on, ok
}

// Experts posts hand-offs to the Teams channel registered as the experts'
// channel: an itsm.Tracker whose reference is the card's thread. Made
// before the Bot, it works once New has been given it (Config.Experts).
type Experts struct {
	bot  *Bot
	lang kb.Lang
}

// NewExperts returns the Teams experts channel, whose cards are in lang.
func NewExperts(lang kb.Lang) *Experts {
	if !lang.Valid() {
		lang = kb.English
	}
	return &Experts{lang: lang}
}

var errNoBot = errors.New("teams: the experts channel was not given to a bot (Config.Experts)")

// errNoChannel is returned while no channel is registered.
var errNoChannel = errors.New("teams: no experts channel registered (@mention the bot with \"experts here\" in one)")

// Name implements itsm.Tracker.
func (x *Experts) Name() string { return "teams-experts" }

func (x *Experts) channel(ctx context.Context) (expertsChannel, error) {
	if x.bot == nil {
		return expertsChannel{}, errNoBot
	}
	if x.bot.cfg.Settings == nil {
		return expertsChannel{}, errNoChannel
	}
	raw, ok, err := x.bot.cfg.Settings.Setting(ctx, expertsSetting)
	if err != nil {
		return expertsChannel{}, fmt.Errorf("teams experts channel: %w", err)
	}
	var ch expertsChannel
	if !ok || json.Unmarshal([]byte(raw), &ch) != nil || ch.Channel == "" || ch.ServiceURL == "" {
		return expertsChannel{}, errNoChannel
	}
	return ch, nil
}

// Create implements itsm.Tracker: the card starts a thread of its own in
// the channel; the reference is that thread's conversation id.
func (x *Experts) Create(ctx context.Context, issue itsm.Issue) (string, error) {
	ch, err := x.channel(ctx)
	if err != nil {
		return "", err
	}
	act := schema.Activity{Type: schema.Message, Attachments: []schema.Attachment{attachment(x.bot.ticketCard(x.lang, issue, "", false))},
		Conversation: schema.ConversationAccount{ID: ch.Channel}}
	id, err := x.bot.postForID(ctx, ch.ServiceURL, ch.Channel, act)
	if err != nil {
		return "", err
	}
	return ch.Channel + ";messageid=" + id, nil
}

// Comment implements itsm.Tracker: a plain-text reply in the card's
// thread.
func (x *Experts) Comment(ctx context.Context, ref, text string) error {
	ch, err := x.channel(ctx)
	if err != nil {
		return err
	}
	act := schema.Activity{Type: schema.Message, Text: text, TextFormat: schema.PLAIN, Conversation: schema.ConversationAccount{ID: ref}}
	return x.bot.post(ctx, ch.ServiceURL, ref, "", act, []any{"ticket", ref})
}

// postForID posts act to conv and returns the new activity's id, which
// the library's client does not give back.
func (b *Bot) postForID(ctx context.Context, serviceURL, conv string, act schema.Activity) (string, error) {
	target, err := b.conn.activitiesURL(serviceURL, conv, "")
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(act)
	if err != nil {
		return "", fmt.Errorf("teams: encode activity: %w", err)
	}
	tok, err := b.conn.tokens.Token(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errNoToken, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("teams: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := b.conn.replyClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("teams: post to %s: %w", target.Redacted(), err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("teams: post to %s: HTTP %d", target.Redacted(), resp.StatusCode)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("teams: post to %s: no activity id in the response", target.Redacted())
	}
	return out.ID, nil
}

// ticketCard is the experts' card; status, when set, shows who took or
// resolved it and drops Take it; a resolved ticket loses Resolved too.
func (b *Bot) ticketCard(lang kb.Lang, issue itsm.Issue, status string, resolved bool) card {
	title := b.words.Get(lang, "ExpertsTitle", map[string]any{"Ticket": issue.Ref})
	if issue.Pending {
		title += " · " + b.words.Get(lang, "ExpertsPending", nil)
	}
	c := newCard(lang, title)
	c.Body = append(c.Body, para(title, inline{Weight: "Bolder"}),
		para(b.words.Get(lang, "ExpertsAskedBy", nil)+": "+issue.Asker()+" · "+b.words.Get(lang, "SummaryLang", nil)+": "+issue.Lang, subtleStyle),
		summaryBlock(cutRunes(issue.Body, 3000)))
	if status != "" {
		c.Body = append(c.Body, para(status, subtleStyle))
	}
	if strings.HasPrefix(issue.Link, "https://") {
		c.Actions = append(c.Actions, action{Type: "Action.OpenUrl", Title: b.words.Get(lang, "ExpertsConversation", nil), URL: issue.Link})
	}
	d := submitData{Ticket: issue.Ref, Conv: issue.Conversation, Lang: kb.Lang(issue.Lang)}
	take, resolve, gap := d, d, d
	take.Action, resolve.Action, gap.Action = ticketTake, ticketResolve, ticketGap
	if status == "" {
		a := submit(b.words.Get(lang, "ExpertsTake", nil), take)
		a.Style = "positive"
		c.Actions = append(c.Actions, a)
	}
	if !resolved {
		c.Actions = append(c.Actions, submit(b.words.Get(lang, "ExpertsResolve", nil), resolve))
	}
	c.Actions = append(c.Actions, submit(b.words.Get(lang, "ExpertsGap", nil), gap))
	return c
}

// parseTicketSubmit reads a press of the experts' card.
func parseTicketSubmit(raw json.RawMessage) (submitData, bool) {
	if len(raw) == 0 || raw[0] != '{' {
		return submitData{}, false
	}
	var d submitData
	if json.Unmarshal(raw, &d) != nil || d.Ticket == "" {
		return submitData{}, false
	}
	switch d.Action {
	case ticketTake, ticketResolve, ticketGap:
	default:
		return submitData{}, false
	}
	d.Ticket, d.Conv = cutBytes(d.Ticket, maxDataID), cutBytes(d.Conv, 300)
	if !d.Lang.Valid() {
		d.Lang = ""
	}
	return d, true
}

// isExpertsChannel reports whether in was written in the registered
// experts channel.
func (b *Bot) isExpertsChannel(ctx context.Context, in *inbound) bool {
	if b.cfg.Experts == nil {
		return false
	}
	ch, err := b.cfg.Experts.channel(ctx)
	return err == nil && strings.SplitN(in.Conversation.ID, ";", 2)[0] == ch.Channel
}

// ticketClick acts on a press of the experts' card: the ticket is marked,
// the card shows who did what, and the user is told.
func (b *Bot) ticketClick(ctx context.Context, in *inbound, d submitData) {
	if !b.isExpertsChannel(ctx, in) {
		b.log.Warn("teams ticket button outside the experts channel", in.attrs()...)
		return
	}
	x := b.cfg.Experts
	who := in.From.Name
	if who == "" {
		who = in.user()
	}
	var state bot.TicketState
	var statusID string
	switch d.Action {
	case ticketTake:
		state, statusID = bot.TicketTaken, "ExpertsTakenBy"
	case ticketResolve:
		state, statusID = bot.TicketResolved, "ExpertsResolvedBy"
	default:
		statusID = "ExpertsGapBy"
	}
	var t bot.TicketRecord
	if b.cfg.Tickets != nil {
		var err error
		if t, _, err = b.cfg.Tickets.Mark(ctx, d.Ticket, state, who, d.Action == ticketGap); err != nil {
			b.log.Warn("mark ticket", append(in.attrs(), "ticket", d.Ticket, "err", err)...)
		}
	}
	status := b.words.Get(x.lang, statusID, map[string]any{"User": who})
	if state == bot.TicketResolved {
		status = "✓ " + status
	}
	issue := itsm.Issue{Ref: d.Ticket, Conversation: d.Conv, Lang: string(d.Lang), User: t.User, UserName: t.UserName, Body: t.Body}
	if in.ReplyToID != "" {
		act := schema.Activity{Type: schema.Message, ID: in.ReplyToID,
			Attachments:  []schema.Attachment{attachment(b.ticketCard(x.lang, issue, status, state == bot.TicketResolved))},
			Conversation: schema.ConversationAccount{ID: in.Conversation.ID}}
		if target, err := b.conn.activitiesURL(in.ServiceURL, in.Conversation.ID, in.ReplyToID); err == nil {
			_ = b.call(ctx, "update", target, in.attrs(), func(ctx context.Context, cl client.Client) error {
				return cl.Put(ctx, target, act)
			})
		}
	}
	if state == "" || t.Conversation == "" || b.cfg.Notify == nil {
		return
	}
	t.By = who
	if _, err := b.cfg.Notify.TicketNews(ctx, t, state); err != nil {
		b.log.Warn("tell ticket user", append(in.attrs(), "ticket", t.Ref, "err", err)...)
	}
}

// registerExperts makes the channel in was written in the experts'
// channel (on), or stops it being one.
func (b *Bot) registerExperts(ctx context.Context, in *inbound, on bool) {
	lang := b.sessions.Lang(ctx, in.sessionUser(), in.locale())
	if b.cfg.Settings == nil {
		b.note(ctx, in, lang, "ExpertsNoStore")
		return
	}
	channel := strings.SplitN(in.Conversation.ID, ";", 2)[0]
	value, id := "", "ExpertsOff"
	if on {
		raw, _ := json.Marshal(expertsChannel{ServiceURL: in.ServiceURL, Channel: channel, Tenant: in.Conversation.TenantID})
		value, id = string(raw), "ExpertsHere"
	} else if !b.isExpertsChannel(ctx, in) {
		// "experts off" elsewhere leaves the registered channel alone.
		b.note(ctx, in, lang, "ExpertsNotHere")
		return
	}
	if err := b.cfg.Settings.SetSetting(ctx, expertsSetting, value); err != nil {
		b.log.Warn("teams experts channel", append(in.attrs(), "err", err)...)
		return
	}
	b.log.Info("teams experts channel", append(in.attrs(), "on", on, "by", in.user())...)
	b.note(ctx, in, lang, id)
}

// relayToUser passes an expert's message in a ticket's thread (the bot
// mentioned) to the ticket's user while the ticket is open.
func (b *Bot) relayToUser(ctx context.Context, in *inbound, text string) {
	if b.cfg.Tickets == nil || b.cfg.Notify == nil || strings.TrimSpace(text) == "" {
		return
	}
	t, ok, err := b.cfg.Tickets.Ticket(ctx, in.Conversation.ID)
	if err != nil || !ok || t.State == bot.TicketResolved {
		return
	}
	if _, err := b.cfg.Notify.RelayToUser(ctx, t, in.From.Name, text); err != nil {
		b.log.Warn("relay to ticket user", append(in.attrs(), "ticket", t.Ref, "err", err)...)
	}
}
