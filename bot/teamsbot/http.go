package teamsbot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"

	"github.com/infracloudio/msbotbuilder-go/core/activity"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// Handler returns the HTTP handler of the messaging endpoint, POST
// /api/messages. A request's body is read once, capped at MaxBody, and
// parsed; with credentials its bearer token is verified for the activity
// before anything else is done with it. A refused request is answered 401
// (no or a bad token), 403 (a service URL the bot will not call), 400 or
// 413, and logged; it is never replied to. An accepted activity is
// answered 200 at once; the reply follows. Activity types the bot has no
// use for (typing, reactions, installationUpdate, invoke…) are answered 200
// and ignored.
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Path, b.serveActivity)
	return mux
}

func (b *Bot) serveActivity(w http.ResponseWriter, r *http.Request) {
	attrs := []any{"remote", r.RemoteAddr}
	header := r.Header.Get("Authorization")
	if b.validator != nil && header == "" {
		b.log.Warn("teams request rejected: no Authorization header", attrs...)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, b.cfg.MaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			b.log.Warn("teams request rejected: body too large", append(attrs, "limit", b.cfg.MaxBody)...)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		b.log.Warn("teams request rejected: unreadable body", append(attrs, "err", err)...)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	in, err := parseActivity(body)
	if err != nil {
		b.log.Warn("teams request rejected", append(attrs, "err", err)...)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	attrs = append(attrs, in.attrs()...)
	act := in.schemaActivity()
	if b.validator != nil {
		if _, err := b.validator.AuthenticateRequest(r.Context(), act, header, b.creds, ""); err != nil {
			b.log.Warn("teams request rejected: token", append(attrs, "err", err)...)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
	} else if _, err := checkServiceURL(in.ServiceURL, true); err != nil {
		b.log.Warn("teams request rejected: service URL", append(attrs, "err", err)...)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}

	// Teams only: a Bot Framework token may be endorsed for other channels
	// (webchat, directline) that this bot does not serve. The Emulator
	// speaks as "emulator" in local testing without credentials.
	if in.ChannelID != "msteams" && !(b.cfg.InsecureNoAuth && in.ChannelID == "emulator") {
		b.log.Info("teams activity from another channel ignored", append(attrs, "channel", in.ChannelID)...)
		w.WriteHeader(http.StatusOK)
		return
	}

	// msbotbuilder-go dispatches message, invoke and conversationUpdate
	// activities, and fails on every other type.
	var queueErr error
	_, err = activity.PrepareActivityContext(activity.HandlerFuncs{
		OnMessageFunc: func(*activity.TurnContext) (schema.Activity, error) {
			queueErr = b.acceptMessage(r.Context(), in)
			return schema.Activity{}, nil
		},
		OnConversationUpdateFunc: func(*activity.TurnContext) (schema.Activity, error) {
			queueErr = b.acceptConversationUpdate(r.Context(), in)
			return schema.Activity{}, nil
		},
		OnInvokeFunc: func(*activity.TurnContext) (schema.Activity, error) {
			b.log.Debug("teams invoke ignored", append(attrs, "name", in.Name)...)
			return schema.Activity{}, nil
		},
	}, &activity.TurnContext{Activity: act})
	if err != nil {
		b.log.Debug("teams activity ignored", append(attrs, "err", err)...)
	}
	if queueErr != nil {
		// Not acknowledged: the Bot Framework sends it again.
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (in *inbound) attrs() []any {
	return []any{"type", in.Type, "scope", in.scope().String(), "activity", in.ID, "conversation", in.Conversation.ID}
}

// claimKey is the key an activity is claimed under, so that a redelivery
// is not answered again.
func claimKey(in *inbound) string {
	key := "teams:activity:" + in.Conversation.ID + ":" + in.ID
	if in.ID == "" {
		// No id to go by: what the activity says, where and when, is
		// the same in a redelivery.
		sum := sha256.Sum256([]byte(in.Conversation.ID + "\x00" + in.From.ID + "\x00" + in.Timestamp + "\x00" + in.Text + "\x00" + string(in.Value)))
		key = "teams:activity-sum:" + hex.EncodeToString(sum[:16])
	}
	return key
}
