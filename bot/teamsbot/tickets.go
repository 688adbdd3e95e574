package teamsbot

import (
	"context"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
)

// maxTellText bounds what a message to a ticket's user quotes.
const maxTellText = 3000

// teamsConversation returns the Teams conversation id of a Sessions key
// and whether the key is a Teams conversation the bot can post to (it
// knows the service URL).
func teamsConversation(t bot.TicketRecord) (string, bool) {
	conv, ok := strings.CutPrefix(t.Conversation, "teams:")
	return conv, ok && conv != "" && t.Reach != ""
}

// tell posts text, as plain text (nothing the expert wrote is read as
// markup), to the ticket's conversation.
func (b *Bot) tell(ctx context.Context, t bot.TicketRecord, text string) (bool, error) {
	conv, ok := teamsConversation(t)
	if !ok {
		return false, nil
	}
	act := schema.Activity{Type: schema.Message, Text: text, TextFormat: schema.PLAIN,
		Conversation: schema.ConversationAccount{ID: conv}}
	if err := b.post(ctx, t.Reach, conv, "", act, []any{"ticket", t.Ref}); err != nil {
		return true, err
	}
	return true, nil
}

func (b *Bot) ticketLang(t bot.TicketRecord) kb.Lang {
	if t.Lang.Valid() {
		return t.Lang
	}
	return b.sessions.Engine().DefaultLang()
}

// TicketNews implements bot.TicketNotifier for conversations in Teams.
func (b *Bot) TicketNews(ctx context.Context, t bot.TicketRecord, news bot.TicketState) (bool, error) {
	id, ok := bot.NewsMessage(news)
	if !ok {
		return false, nil
	}
	return b.tell(ctx, t, b.words.Get(b.ticketLang(t), id, map[string]any{"Ticket": t.Ref, "Name": t.By}))
}

// RelayToUser implements bot.TicketNotifier for conversations in Teams.
func (b *Bot) RelayToUser(ctx context.Context, t bot.TicketRecord, from, text string) (bool, error) {
	id := "RelayFromExpert"
	if from == "" {
		id = "RelayFromIT"
	}
	lead := b.words.Get(b.ticketLang(t), id, map[string]any{"User": from, "Ticket": t.Ref})
	text = strings.TrimSpace(text)
	if r := []rune(text); len(r) > maxTellText {
		text = string(r[:maxTellText]) + "…"
	}
	return b.tell(ctx, t, lead+"\n"+text)
}

var _ bot.TicketNotifier = (*Bot)(nil)
