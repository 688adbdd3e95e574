package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/slack-go/slack"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/itsm"
	"github.com/enrollbot/enrollbot/kb"
)

// The experts' card's buttons.
const (
	actionTicketTake    = "enroll_ticket_take"
	actionTicketResolve = "enroll_ticket_resolve"
	actionTicketGap     = "enroll_ticket_gap"
	blockTicketActions  = "enroll_ticket"
	// maxTicketText bounds what the card quotes of the conversation.
	maxTicketText = 2800
)

// ticketRef is what a card's buttons carry: the ticket, the user's
// conversation and language. The card needs no store to act on a click,
// so a click after a restart works.
type ticketRef struct {
	Ticket string  `json:"t"`
	Conv   string  `json:"c,omitempty"`
	Lang   kb.Lang `json:"l,omitempty"`
}

// Experts posts hand-offs to an experts channel as a card with Take it,
// Resolved and Add to catalog; a Bot configured with the same channel
// acts on their clicks. It is an itsm.Tracker whose reference is the
// card's timestamp, so a second request in the conversation is posted in
// the card's thread.
//
// It is made before the Bot (the desk that posts to it comes before the
// sessions the Bot needs) and works once New has been given it.
type Experts struct {
	bot     *Bot
	channel string
	lang    kb.Lang
}

// NewExperts returns the experts channel channel (an id), whose cards are
// in lang (English when invalid). Pass it to New as Config.Experts.
func NewExperts(channel string, lang kb.Lang) *Experts {
	if !lang.Valid() {
		lang = kb.English
	}
	return &Experts{channel: channel, lang: lang}
}

// Name implements itsm.Tracker.
func (x *Experts) Name() string { return "slack-experts" }

// Create implements itsm.Tracker: it posts the card.
func (x *Experts) Create(ctx context.Context, issue itsm.Issue) (string, error) {
	if x.bot == nil {
		return "", errNoBot
	}
	msg := x.bot.ticketCard(x.lang, issue, x.bot.permalink(ctx, issue.Conversation), "")
	return x.bot.post(ctx, x.channel, "", msg, []any{"ticket", issue.Ref})
}

// permalink is a link to the conversation's thread in a channel
// (chat.getPermalink), for the experts to read it; empty for direct
// messages and slash commands, which are private, and when Slack gives
// none.
func (b *Bot) permalink(ctx context.Context, conv string) string {
	channel, thread, eph, ok := userPlace(conv)
	if !ok || eph != "" || thread == "" || isDM(channel) {
		return ""
	}
	var link string
	_ = b.call(ctx, "chat.getPermalink", []any{"channel", channel}, func(ctx context.Context) error {
		var err error
		link, err = b.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: thread})
		return err
	})
	if !strings.HasPrefix(link, "https://") {
		return ""
	}
	return link
}

// Comment implements itsm.Tracker: it posts text in the card's thread.
func (x *Experts) Comment(ctx context.Context, ts, text string) error {
	if x.bot == nil {
		return errNoBot
	}
	_, err := x.bot.post(ctx, x.channel, ts, note(cut(escape(text), maxTicketText)), []any{"ticket", ts})
	return err
}

// asker is how the card names the user: a mention for a Slack user,
// Issue.Asker for others.
func asker(issue itsm.Issue) string {
	if id, ok := strings.CutPrefix(issue.User, "slack:"); ok {
		return mention(id)
	}
	return escape(issue.Asker())
}

// ticketCard renders the experts' card; status, when set, replaces the
// buttons that no longer apply (taken, resolved).
func (b *Bot) ticketCard(lang kb.Lang, issue itsm.Issue, permalink, status string) message {
	w := b.words
	title := w.Get(lang, "ExpertsTitle", map[string]any{"Ticket": issue.Ref})
	if issue.Pending {
		title += " · " + w.Get(lang, "ExpertsPending", nil)
	}
	fields := []string{
		"*" + escape(w.Get(lang, "ExpertsAskedBy", nil)) + ":* " + asker(issue),
		"*" + escape(w.Get(lang, "SummaryLang", nil)) + ":* " + escape(issue.Lang),
	}
	if len(issue.Codes) > 0 {
		fields = append(fields, "*"+escape(w.Get(lang, "SummaryCodes", nil))+":* "+escape(strings.Join(issue.Codes, ", ")))
	}
	if permalink == "" && strings.HasPrefix(issue.Link, "https://") {
		permalink = issue.Link
	}
	switch link := conversationLink(issue.Conversation); {
	case permalink != "":
		fields = append(fields, "<"+escape(permalink)+"|"+escape(w.Get(lang, "ExpertsConversation", nil))+">")
	case link != "":
		fields = append(fields, link)
	}
	body := cutChars(issue.Body, maxTicketText)
	blocks := []slack.Block{
		section("*" + escape(title) + "*"),
		contextBlock("", fields...),
		section("```" + strings.ReplaceAll(escape(body), "```", "ʼʼʼ") + "```"),
	}
	if status != "" {
		blocks = append(blocks, contextBlock("", status))
	}
	r := ticketRef{Ticket: issue.Ref, Conv: issue.Conversation, Lang: kb.Lang(issue.Lang)}
	value, _ := json.Marshal(r)
	var buttons []slack.BlockElement
	if status == "" {
		buttons = append(buttons, slack.NewButtonBlockElement(actionTicketTake, string(value),
			plainText(w.Get(lang, "ExpertsTake", nil), maxButtonText)).WithStyle(slack.StylePrimary))
	}
	buttons = append(buttons,
		slack.NewButtonBlockElement(actionTicketResolve, string(value), plainText(w.Get(lang, "ExpertsResolve", nil), maxButtonText)),
		slack.NewButtonBlockElement(actionTicketGap, string(value), plainText(w.Get(lang, "ExpertsGap", nil), maxButtonText)))
	blocks = append(blocks, slack.NewActionBlock(blockTicketActions, buttons...))
	return message{Text: cut(escape(title), maxFallback), Blocks: blocks}
}

// conversationLink points at the user's conversation when it is a Slack
// channel thread; direct messages and other channels are not linkable.
func conversationLink(conv string) string {
	rest, ok := strings.CutPrefix(conv, "slack:")
	if !ok || strings.HasPrefix(rest, "cmd:") {
		return ""
	}
	channel, _, _ := strings.Cut(rest, ":")
	if isDM(channel) || channel == "" {
		return ""
	}
	return "<#" + channel + ">"
}

// userPlace is where a Slack conversation's user is told news: its channel
// and thread, or for a slash command's private conversation the channel
// and the user to show it to privately. ok is false for a conversation
// elsewhere (Teams).
func userPlace(conv string) (channel, thread, ephemeralUser string, ok bool) {
	rest, found := strings.CutPrefix(conv, "slack:")
	if !found {
		return "", "", "", false
	}
	if cmd, isCmd := strings.CutPrefix(rest, "cmd:"); isCmd {
		channel, user, _ := strings.Cut(cmd, ":")
		return channel, "", user, channel != "" && user != ""
	}
	channel, thread, _ = strings.Cut(rest, ":")
	return channel, thread, "", channel != ""
}

// ticketClick acts on a press of the experts' card: the card shows who did
// what, and the user is told.
func (b *Bot) ticketClick(ctx context.Context, k click, blocks []slack.Block) {
	x := b.cfg.Experts
	if x == nil || k.channel != x.channel {
		b.log.Warn("slack ticket button outside the experts channel", k.attrs()...)
		return
	}
	var r ticketRef
	if err := json.Unmarshal([]byte(k.value), &r); err != nil || r.Ticket == "" {
		b.log.Warn("slack ticket button without a ticket", append(k.attrs(), "err", err)...)
		return
	}
	lang := x.lang
	var status, userID string
	var state bot.TicketState
	switch k.action {
	case actionTicketTake:
		status, userID, state = "ExpertsTakenBy", "UserTaken", bot.TicketTaken
	case actionTicketResolve:
		status, userID, state = "ExpertsResolvedBy", "UserResolved", bot.TicketResolved
	case actionTicketGap:
		status = "ExpertsGapBy"
		if b.cfg.Gaps != nil {
			if err := b.cfg.Gaps.RecordUnanswered(ctx, "catalog gap "+r.Ticket+" ("+r.Conv+")"); err != nil {
				b.log.Warn("record catalog gap", append(k.attrs(), "err", err)...)
			}
		}
	default:
		return
	}
	var marked bot.TicketRecord
	if b.cfg.Tickets != nil {
		// The card is the experts' truth even when the store forgot the
		// ticket (memory, a restart): it is updated regardless.
		var err error
		if marked, _, err = b.cfg.Tickets.Mark(ctx, r.Ticket, state, sessionUser(k.user), k.action == actionTicketGap); err != nil {
			b.log.Warn("mark ticket", append(k.attrs(), "ticket", r.Ticket, "err", err)...)
		}
	}
	line := b.words.withUser(lang, status, k.user, nil)
	updated := withStatus(blocks, line, k.action == actionTicketResolve)
	err := b.call(ctx, "chat.update", k.attrs(), func(ctx context.Context) error {
		_, _, _, err := b.api.UpdateMessageContext(ctx, k.channel, k.messageTS,
			slack.MsgOptionText(escape(r.Ticket)+": "+line, false), slack.MsgOptionBlocks(updated...))
		return err
	})
	if err != nil {
		return
	}
	if userID == "" {
		return
	}
	ulang := b.userLang(r.Lang)
	text := b.words.withUser(ulang, userID, k.user, map[string]any{"Ticket": r.Ticket})
	var verdict []slack.BlockElement
	if state == bot.TicketResolved {
		verdict = b.verdictButtons(ulang, r.Conv, marked.Entry)
	}
	told, err := b.tellUser(ctx, r.Conv, text, k.attrs(), verdict...)
	if !told && err == nil && b.cfg.Notify != nil && marked.Conversation != "" {
		// A user elsewhere (Teams) is told by their adapter, with the
		// expert's name: a Slack mention means nothing there.
		marked.By = b.displayName(ctx, k.user)
		told, err = b.cfg.Notify.TicketNews(ctx, marked, state)
	}
	if err != nil {
		b.log.Warn("tell ticket user", append(k.attrs(), "ticket", r.Ticket, "err", err)...)
	} else if !told {
		b.log.Info("ticket user not reachable", append(k.attrs(), "ticket", r.Ticket)...)
	}
}

// displayName is a Slack user's name for people outside Slack: the real
// name, else the display name, else the handle, else the id.
func (b *Bot) displayName(ctx context.Context, user string) string {
	var u *slack.User
	_ = b.call(ctx, "users.info", []any{"user", user}, func(ctx context.Context) error {
		var err error
		u, err = b.api.GetUserInfoContext(ctx, user)
		return err
	})
	switch {
	case u == nil:
		return user
	case u.RealName != "":
		return u.RealName
	case u.Profile.DisplayName != "":
		return u.Profile.DisplayName
	case u.Name != "":
		return u.Name
	}
	return user
}

// relayToUser passes an expert's reply in a ticket's thread to the
// ticket's user, while the ticket is not resolved: in Slack itself, or
// through Config.Notify for a user elsewhere (Teams).
func (b *Bot) relayToUser(ctx context.Context, j job) {
	if b.cfg.Tickets == nil {
		return
	}
	t, ok, err := b.cfg.Tickets.Ticket(ctx, j.threadTS)
	if err != nil {
		b.log.Warn("relay: load ticket", append(j.attrs(), "err", err)...)
		return
	}
	if !ok || t.State == bot.TicketResolved {
		return
	}
	told, err := b.relay(ctx, t, mention(j.user), j.text)
	if !told && err == nil && b.cfg.Notify != nil {
		// Another platform's user: the expert's Slack name means nothing
		// there.
		told, err = b.cfg.Notify.RelayToUser(ctx, t, "", j.text)
	}
	switch {
	case err != nil:
		b.log.Warn("relay to user", append(j.attrs(), "ticket", t.Ref, "err", err)...)
	case !told:
		b.log.Info("relay: ticket user not reachable", append(j.attrs(), "ticket", t.Ref)...)
	}
}

// RelayToUser implements bot.TicketNotifier for conversations in Slack:
// from is a display name from another platform, plain text, escaped like
// the text (a Teams name "<!channel>" pings no one).
func (b *Bot) RelayToUser(ctx context.Context, t bot.TicketRecord, from, text string) (bool, error) {
	return b.relay(ctx, t, escape(from), text)
}

// relay tells the ticket's Slack user what an expert wrote; from is
// mrkdwn (a mention, an escaped name) or empty.
func (b *Bot) relay(ctx context.Context, t bot.TicketRecord, from, text string) (bool, error) {
	if _, _, _, ok := userPlace(t.Conversation); !ok {
		return false, nil
	}
	id := "RelayFromExpert"
	if from == "" {
		id = "RelayFromIT"
	}
	lead := strings.ReplaceAll(escape(b.words.Get(b.userLang(t.Lang), id,
		map[string]any{"User": userPlaceholder, "Ticket": t.Ref})), userPlaceholder, from)
	return b.tellUser(ctx, t.Conversation, lead+"\n"+cut(escape(strings.TrimSpace(text)), maxTicketText), []any{"ticket", t.Ref})
}

func (b *Bot) userLang(l kb.Lang) kb.Lang {
	if l.Valid() {
		return l
	}
	return b.sessions.Engine().DefaultLang()
}

// verdictButtons are Solved / Not solved on the entry the conversation
// answered last, so that the user's answer to "is it fixed?" is recorded
// like any verdict; none when no entry was answered.
func (b *Bot) verdictButtons(lang kb.Lang, conv, entry string) []slack.BlockElement {
	if entry == "" {
		return nil
	}
	r := ref{Act: bot.ActSolved, Conv: conv, Entry: entry, Lang: lang}
	solved := button(actionSolved, ":+1: "+b.words.Get(lang, "ActionSolved", nil), r).WithStyle(slack.StylePrimary)
	r.Act = bot.ActNotSolved
	return []slack.BlockElement{solved, button(actionNotSolved, ":-1: "+b.words.Get(lang, "ActionNotSolved", nil), r)}
}

// tellUser posts text (mrkdwn), with buttons when given, where the Slack
// conversation conv's user reads it; told is false for a conversation
// outside Slack.
func (b *Bot) tellUser(ctx context.Context, conv, text string, attrs []any, buttons ...slack.BlockElement) (told bool, err error) {
	channel, thread, eph, ok := userPlace(conv)
	if !ok {
		return false, nil
	}
	msg := message{Text: text, Blocks: []slack.Block{section(text)}}
	if len(buttons) > 0 {
		msg.Blocks = append(msg.Blocks, slack.NewActionBlock(blockAnswerActions, buttons...))
	}
	if eph != "" {
		return true, b.ephemeral(ctx, "", channel, eph, msg, false, attrs)
	}
	_, err = b.post(ctx, channel, thread, msg, attrs)
	return true, err
}

// TicketNews implements bot.TicketNotifier for conversations in Slack.
func (b *Bot) TicketNews(ctx context.Context, t bot.TicketRecord, news bot.TicketState) (bool, error) {
	id, ok := bot.NewsMessage(news)
	if !ok {
		return false, nil
	}
	lang := b.userLang(t.Lang)
	text := escape(b.words.Get(lang, id, map[string]any{"Ticket": t.Ref, "Name": t.By}))
	var verdict []slack.BlockElement
	if news == bot.TicketResolved {
		verdict = b.verdictButtons(lang, t.Conversation, t.Entry)
	}
	return b.tellUser(ctx, t.Conversation, text, []any{"ticket", t.Ref}, verdict...)
}

// withStatus returns a card's blocks with line shown above the buttons;
// Take it goes once taken, and every button once resolved.
func withStatus(blocks []slack.Block, line string, resolved bool) []slack.Block {
	var out []slack.Block
	for _, bl := range blocks {
		a, ok := bl.(*slack.ActionBlock)
		if !ok || a.BlockID != blockTicketActions {
			out = append(out, bl)
			continue
		}
		out = append(out, contextBlock("", line))
		if resolved {
			continue
		}
		var keep []slack.BlockElement
		for _, el := range a.Elements.ElementSet {
			if btn, ok := el.(*slack.ButtonBlockElement); ok && btn.ActionID == actionTicketTake {
				continue
			}
			keep = append(keep, el)
		}
		out = append(out, slack.NewActionBlock(blockTicketActions, keep...))
	}
	return out
}

var _ itsm.Tracker = (*Experts)(nil)

// errNoBot is returned by Experts not given to a Bot.
var errNoBot = errors.New("slack: the experts channel was not given to a bot (Config.Experts)")
