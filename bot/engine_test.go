package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/kb"
	"github.com/enrollbot/enrollbot/locales"
)

func newEngine(t testing.TB, store bot.Store) *bot.Engine {
	t.Helper()
	e, err := bot.NewBuiltin(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReplyLanguage(t *testing.T) {
	e := newEngine(t, nil)
	tests := []struct {
		name   string
		turn   bot.Turn
		want   kb.Lang
		reason string
	}{
		{"default", bot.Turn{Text: "0x80180014"}, kb.English, "no evidence: the default"},
		{"locale", bot.Turn{Text: "0x80180014", Locale: "de-AT"}, kb.German, "a bare code follows the client locale"},
		{"nl-BE locale", bot.Turn{Text: "0x80180014", Locale: "nl-BE"}, kb.Dutch, "nl-BE maps to nl"},
		{"sv-FI locale", bot.Turn{Text: "0x80180014", Locale: "sv-FI"}, kb.Swedish, "sv-FI maps to sv"},
		{"unknown locale", bot.Turn{Text: "0x80180014", Locale: "fr-FR"}, kb.English, "anything else is English"},
		{"words beat locale", bot.Turn{Text: "Mijn iPad zegt Apparaatlimiet bereikt, wat nu?", Locale: "en-US"}, kb.Dutch, "the user writes Dutch"},
		{"device message keeps locale", bot.Turn{Text: "Profile Installation Failed. A Network Error Has Occurred.", Locale: "nl-NL"}, kb.Dutch, "an English device message alone does not override the locale"},
		{"own English beats locale", bot.Turn{Text: "Hi, my iPad shows Device Cap Reached, what should I do?", Locale: "nl-NL"}, kb.English, "the user writes English"},
		{"explicit beats all", bot.Turn{Text: "Mijn iPad zegt Apparaatlimiet bereikt", Lang: kb.Swedish, Locale: "de-DE"}, kb.Swedish, "an explicit choice wins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := e.Handle(context.Background(), tt.turn)
			if err != nil {
				t.Fatal(err)
			}
			if r.Lang != tt.want {
				t.Errorf("%s: reply in %s, want %s", tt.reason, r.Lang, tt.want)
			}
		})
	}
}

func TestAnswerCarriesCausesAndQuestions(t *testing.T) {
	e := newEngine(t, nil)
	r, err := e.Handle(context.Background(), bot.Turn{Text: "De profielinstallatie is mislukt. Er kan geen verbinding met de server tot stand worden gebracht."})
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != bot.KindAnswer || r.Lang != kb.Dutch {
		t.Fatalf("got %s in %s, want a Dutch answer", r.Kind, r.Lang)
	}
	if n := len(r.Entry.Causes); n != 5 {
		t.Errorf("%d causes, want all 5", n)
	}
	for _, c := range r.Entry.Causes {
		if len(c.Steps) == 0 || !strings.HasPrefix(c.Heading, "Oorzaak") {
			t.Errorf("cause %s: heading %q, %d steps", c.ID, c.Heading, len(c.Steps))
		}
	}
	if len(r.Questions) == 0 {
		t.Error("no follow-up questions")
	}
	for _, q := range r.Questions {
		if q.ID == "platform" {
			t.Error("asked for the platform of an iOS entry")
		}
	}
}

func TestConversation(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, bot.NewMemoryStore())

	t.Run("pick a choice by number", func(t *testing.T) {
		turn := bot.Turn{Text: "0x80cf4017", Conversation: "c1", Locale: "de-DE"}
		r, err := e.Handle(ctx, turn)
		if err != nil || r.Kind != bot.KindChoices || len(r.Choices) != 2 {
			t.Fatalf("first turn: %s %v %v", r.Kind, r.Choices, err)
		}
		want := r.Choices[1].ID
		turn.Text = "2"
		r, err = e.Handle(ctx, turn)
		if err != nil || r.Kind != bot.KindAnswer || r.Entry.ID != want {
			t.Fatalf("after picking 2: %s %+v %v, want answer %s", r.Kind, r.Entry, err, want)
		}
		if r.Lang != kb.German {
			t.Errorf("conversation switched to %s", r.Lang)
		}
	})

	t.Run("narrow by platform", func(t *testing.T) {
		r, err := e.Handle(ctx, bot.Turn{Text: "Something went wrong.", Conversation: "c2"})
		if err != nil || r.Kind != bot.KindChoices {
			t.Fatalf("first turn: %s %v", r.Kind, err)
		}
		r, err = e.Handle(ctx, bot.Turn{Text: "windows", Conversation: "c2"})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range r.Choices {
			if c.Platform != kb.Windows {
				t.Errorf("choice %s is %s after the user said Windows", c.ID, c.Platform)
			}
		}
	})

	t.Run("clarify then detail", func(t *testing.T) {
		r, err := e.Handle(ctx, bot.Turn{Text: "enrollment on my iPad doesn't work", Conversation: "c3"})
		if err != nil || r.Kind != bot.KindClarify {
			t.Fatalf("first turn: %s %v", r.Kind, err)
		}
		r, err = e.Handle(ctx, bot.Turn{Text: "it says the device cap was reached", Conversation: "c3"})
		if err != nil || r.Kind != bot.KindAnswer || r.Entry.ID != "device-cap-reached" {
			t.Fatalf("second turn: %s %+v %v", r.Kind, r.Entry, err)
		}
	})

	t.Run("a number without a conversation is not a choice", func(t *testing.T) {
		r, err := e.Handle(ctx, bot.Turn{Text: "2"})
		if err != nil || r.Kind != bot.KindClarify {
			t.Fatalf("got %s %v, want clarify", r.Kind, err)
		}
	})
}

func TestBadInput(t *testing.T) {
	e := newEngine(t, nil)
	tests := []struct {
		name   string
		text   string
		notice string
	}{
		{"empty", "", "any text"},
		{"blank", " \n\t ", "any text"},
		{"invalid UTF-8", "Device Cap Reached \xff\xfe", "could not be read"},
		{"control characters", "Device\x00 Cap\x07 Reached", ""},
		{"1 MB", strings.Repeat("Profile installation failed. ", 40000), "first 4000 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			r, err := e.Handle(ctx, bot.Turn{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			if tt.notice != "" && !strings.Contains(strings.Join(r.Notices, " "), tt.notice) {
				t.Errorf("notices %q lack %q", r.Notices, tt.notice)
			}
		})
	}
}

func TestMemoryStoreExpires(t *testing.T) {
	s := bot.NewMemoryStore()
	ctx := context.Background()
	if err := s.SaveConversation(ctx, "k", bot.State{Entry: "x"}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, ok, _ := s.Conversation(ctx, "k"); ok {
		t.Error("expired conversation still there")
	}
	if err := s.SaveConversation(ctx, "k", bot.State{Entry: "y"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if st, ok, _ := s.Conversation(ctx, "k"); !ok || st.Entry != "y" {
		t.Errorf("got %+v %v", st, ok)
	}
}

func TestChecklistAnswerIsRecorded(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, bot.NewMemoryStore())
	r, err := e.Handle(ctx, bot.Turn{Text: "Device Cap Reached", Conversation: "c4"})
	if err != nil || r.Kind != bot.KindAnswer {
		t.Fatalf("first turn: %s %v", r.Kind, err)
	}
	asked := map[string]bool{}
	for _, q := range r.Questions {
		asked[q.ID] = true
	}
	if !asked["users-affected"] {
		t.Fatalf("users-affected not asked: %+v", r.Questions)
	}
	r, err = e.Handle(ctx, bot.Turn{Text: "all users", Conversation: "c4"})
	if err != nil || r.Kind != bot.KindAnswer || r.Entry.ID != "device-cap-reached" {
		t.Fatalf("after 'all users': %s %+v %v", r.Kind, r.Entry, err)
	}
	for _, q := range r.Questions {
		if q.ID == "users-affected" {
			t.Error("users-affected asked again after the user answered it")
		}
	}
	if len(r.Notices) == 0 {
		t.Error("the answer was not acknowledged")
	}
	// A new paste in the same conversation is a new question, not an answer.
	r, err = e.Handle(ctx, bot.Turn{Text: "0x80180014", Conversation: "c4"})
	if err != nil || r.Kind != bot.KindAnswer || r.Entry.ID == "device-cap-reached" {
		t.Fatalf("a new code was read as a checklist answer: %s %+v %v", r.Kind, r.Entry, err)
	}
}

func TestRateLimitAndUnansweredLog(t *testing.T) {
	ctx := context.Background()
	log := bot.NewMemoryUnanswered()
	cat, err := kb.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := locales.Bundle(locales.Files())
	if err != nil {
		t.Fatal(err)
	}
	e, err := bot.New(bot.Config{Matcher: kb.NewMatcher(cat), Bundle: bundle,
		Limiter: bot.NewMemoryLimiter(2, time.Hour), Unanswered: log})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bot.Kind{bot.KindClarify, bot.KindAnswer, bot.KindLimited} {
		text := "where is the coffee machine?"
		if i == 1 {
			text = "0x80180014"
		}
		r, err := e.Handle(ctx, bot.Turn{Text: text, User: "U1"})
		if err != nil || r.Kind != want {
			t.Fatalf("turn %d: %s %v, want %s", i+1, r.Kind, err, want)
		}
		if want == bot.KindLimited && r.Intro == "" {
			t.Error("limited reply says nothing")
		}
	}
	if r, _ := e.Handle(ctx, bot.Turn{Text: "0x80180014", User: "U2"}); r.Kind != bot.KindAnswer {
		t.Errorf("another user was limited: %s", r.Kind)
	}
	top, _ := log.TopUnanswered(ctx, 10)
	if len(top) != 1 || top[0].Text != "where is the coffee machine?" {
		t.Errorf("unanswered log = %+v, want the one clarify", top)
	}
}

func TestQuestionOptionsFitThePlatform(t *testing.T) {
	e := newEngine(t, nil)
	for text, platform := range map[string]kb.Platform{"0x80180014": kb.Windows, "Device Cap Reached": kb.IOS} {
		r, err := e.Handle(context.Background(), bot.Turn{Text: text})
		if err != nil || r.Kind != bot.KindAnswer {
			t.Fatalf("%s: %s %v", text, r.Kind, err)
		}
		found := false
		for _, q := range r.Questions {
			if q.ID != "enrollment-method" {
				continue
			}
			found = true
			var ids []string
			for _, o := range q.Options {
				ids = append(ids, o.ID)
			}
			hasADE, hasAutopilot := slices.Contains(ids, "ade"), slices.Contains(ids, "autopilot")
			if (platform == kb.Windows) == hasADE || (platform == kb.IOS) == hasAutopilot || !slices.Contains(ids, "byod") {
				t.Errorf("%s (%s): enrollment options %v", text, platform, ids)
			}
		}
		if !found {
			t.Errorf("%s: the enrollment-method question was not asked", text)
		}
	}
}

func TestAnswerShowsAgain(t *testing.T) {
	e := newEngine(t, bot.NewMemoryStore())
	const id = "profile-installation-failed-connection-to-the-server-could-not-be-established"
	r, err := e.Answer(bot.Show{Entry: id, Lang: kb.German, Code: "0x80180014",
		Causes: []string{"no-intune-licence", "gone"}, Answers: map[string]string{"users-affected": "all"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != bot.KindAnswer || r.Lang != kb.German || r.Entry.ID != id {
		t.Fatalf("got %s %s %+v", r.Kind, r.Lang, r.Entry)
	}
	if first := r.Entry.Causes[0]; first.ID != "no-intune-licence" || !strings.HasPrefix(first.Heading, "Ursache 1 von 5") {
		t.Errorf("first cause %s %q, want the licence cause headed Ursache 1 von 5", first.ID, first.Heading)
	}
	if r.Entry.Causes[1].ID != "corporate-only" {
		t.Errorf("second cause %s, want the catalog's first of the rest", r.Entry.Causes[1].ID)
	}
	for _, q := range r.Questions {
		if q.ID == "users-affected" {
			t.Error("an answered question was asked again")
		}
	}
	if r.Code == nil || r.Code.Hex != "0x80180014" || r.Code.NoEntry != "" {
		t.Errorf("code %+v", r.Code)
	}
	if _, err := e.Answer(bot.Show{Entry: "no-such-entry"}); err == nil {
		t.Error("an unknown entry was answered")
	}
}
