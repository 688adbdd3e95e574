package plain_test

import (
	"testing"
	"unicode/utf8"

	"github.com/enrollbot/enrollbot/bot"
	"github.com/enrollbot/enrollbot/bot/plain"
)

func TestParseInput(t *testing.T) {
	tests := []struct {
		line    string
		want    bot.Input
		user    string
		wantErr bool
	}{
		{line: `{"text": "0x80180014", "lang": "nl", "locale": "sv-SE", "user": "U1"}`,
			want: bot.Input{Text: "0x80180014", Lang: "nl", Locale: "sv-SE"}, user: "U1"},
		{line: `{"action": "pick", "entry": "device-cap-reached"}`, want: bot.Input{Action: bot.ActPick, Entry: "device-cap-reached"}},
		{line: `{"action": "choose", "question": "users-affected", "option": "all"}`,
			want: bot.Input{Action: bot.ActChoose, Question: "users-affected", Option: "all"}},
		{line: `{"action": "not_solved"}`, want: bot.Input{Action: bot.ActNotSolved}},
		{line: `{"action": "pick"}`, wantErr: true},
		{line: `{"action": "choose", "question": "x"}`, wantErr: true},
		{line: `{"action": "explode"}`, wantErr: true},
		{line: `{"text": "x", "lang": "fr"}`, wantErr: true},
		{line: `{"txt": "typo"}`, wantErr: true},
		{line: `not json`, wantErr: true},
	}
	for _, tt := range tests {
		in, user, err := plain.ParseInput([]byte(tt.line))
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: err %v, want error %v", tt.line, err, tt.wantErr)
			continue
		}
		if err == nil && (in != tt.want || user != tt.user) {
			t.Errorf("%s: got %+v %q, want %+v %q", tt.line, in, user, tt.want, tt.user)
		}
	}
}

func FuzzParseInput(f *testing.F) {
	for _, s := range []string{`{"text":"a"}`, `{"action":"pick","entry":"x"}`, `{"lang":"nl-BE","text":""}`, `{`, `[]`, "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, user, err := plain.ParseInput([]byte(s))
		if err != nil {
			return
		}
		if len(in.Entry) > 200 || len(in.Question) > 200 || len(user) > 200 || !utf8.ValidString(in.Entry) {
			t.Fatalf("unbounded or invalid field: %+v", in)
		}
		if in.Lang != "" && !in.Lang.Valid() {
			t.Fatalf("invalid language %q", in.Lang)
		}
	})
}
