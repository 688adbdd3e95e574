package kb

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sahilm/fuzzy"
)

func TestMatchOutcomes(t *testing.T) {
	m := NewMatcher(builtin(t))
	tests := []struct {
		name    string
		text    string
		outcome Outcome
		entry   string // answer: the entry; choices: one that must be offered
	}{
		{"code", "0x80180014", Answer, "your-organization-does-not-support-this-version-of-windows"},
		{"symbol", "MENROLL_E_DEVICENOTSUPPORTED", Answer, "your-organization-does-not-support-this-version-of-windows"},
		{"service symbol with typo", "NoEnrolmentPolicy", Answer, "noenrollmentpolicy"},
		{"english message", "Profile Installation Failed. A Network Error Has Occurred.", Answer, "profile-installation-failed-a-network-error-has-occurred"},
		{"typos", "profile instalation failed a network eror has occured", Answer, "profile-installation-failed-a-network-error-has-occurred"},
		{"dutch with words around", "Mijn iPad zegt 'Apparaatlimiet bereikt', wat nu?", Answer, "device-cap-reached"},
		{"german alias era title", "DEP-Registrierung wird nicht gestartet", Answer, "ade-enrollment-doesnt-start"},
		{"description", "ADE enrollment stuck after entering credentials", Answer, "ade-enrollment-stuck-at-user-login"},
		{"log line", "Event ID: 76 Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x80180002b)", Answer, "auto-mdm-enroll-failed"},
		{"shared code", "0x80cf4017", Choices, "the-software-cannot-be-installed"},
		{"shared code decided by text", "The account certificate is not valid and may be expired, 0x80cf4017.", Answer, "the-account-certificate-is-not-valid-and-may-be-expired"},
		{"ambiguous prefix", "Profile installation failed", Choices, "profile-installation-failed-the-new-mdm-payload-does-not-match-the-old-payload"},
		{"code without entry", "0x80180018", CodeOnly, ""},
		{"chatter", "where is the coffee machine?", Clarify, ""},
		{"hex word", "facade", Clarify, ""},
		{"vague", "enrollment doesn't work", Clarify, ""},
		{"empty", "", Clarify, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.Match(tt.text)
			if r.Outcome != tt.outcome {
				t.Fatalf("Match(%q) = %s %v, want %s", tt.text, r.Outcome, ids(r.Candidates), tt.outcome)
			}
			switch tt.outcome {
			case Answer:
				if r.Candidates[0].Entry.ID != tt.entry {
					t.Errorf("answer %s, want %s", r.Candidates[0].Entry.ID, tt.entry)
				}
			case Choices:
				if r.Choices < 2 || r.Choices > maxChoices || !slices.Contains(ids(r.Candidates[:r.Choices]), tt.entry) {
					t.Errorf("choices %v, want 2–4 including %s", ids(r.Candidates[:r.Choices]), tt.entry)
				}
			}
		})
	}
}

func ids(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Entry.ID
	}
	return out
}

func TestRankCausesPutsTheNamedCauseFirst(t *testing.T) {
	c := builtin(t)
	m := NewMatcher(c)
	e, _ := c.Entry("profile-installation-failed-connection-to-the-server-could-not-be-established")
	if len(e.Causes) != 5 {
		t.Fatalf("entry has %d causes, want 5", len(e.Causes))
	}
	order := m.RankCauses(e, "Profile installation failed, connection to the server could not be established. The user has no Intune licence.")
	if got := e.Causes[order[0]].ID; !strings.Contains(got, "licen") {
		t.Errorf("first cause %q, want the licence cause; order %v", got, order)
	}
	if got := m.RankCauses(e, "Profile installation failed. Connection to the server could not be established."); got[0] != 0 {
		t.Errorf("without a hint the catalog's first cause should lead, got %v", got)
	}
}

func FuzzMatch(f *testing.F) {
	m := NewMatcher(builtin(f))
	for _, s := range []string{"0x80180014", "Profile installation failed", "<@U1> *DeviceCapReached*", "\xff\xfe", "facade", strings.Repeat("a ", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := m.Match(s)
		switch r.Outcome {
		case Answer:
			if len(r.Candidates) == 0 {
				t.Fatal("answer without candidate")
			}
		case Choices:
			if r.Choices < 2 || r.Choices > maxChoices || r.Choices > len(r.Candidates) {
				t.Fatalf("bad choice count %d of %d", r.Choices, len(r.Candidates))
			}
		case CodeOnly, Clarify:
		default:
			t.Fatalf("unknown outcome %q", r.Outcome)
		}
	})
}

// evalQueries reads the query texts of the labelled set.
func evalQueries(tb testing.TB) []string {
	f, err := os.Open("../testdata/eval/queries.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c struct {
			Q string `json:"q"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			tb.Fatal(err)
		}
		out = append(out, c.Q)
	}
	return out
}

// benchmarkQueries matches the labelled queries round robin and reports the
// median and 99th percentile latency of one query.
func benchmarkQueries(b *testing.B, m *Matcher, queries []string) {
	b.ReportAllocs()
	durations := make([]time.Duration, 0, b.N)
	// As enrollbotd serve does after Warm (debug.FreeOSMemory): collect
	// the start-up garbage before the first query, rather than while the
	// first queries run.
	runtime.GC()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		m.Match(queries[i%len(queries)])
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds()), "median-µs")
	b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds()), "p99-µs")
}

func BenchmarkMatchBuiltin(b *testing.B) {
	m := NewMatcher(builtin(b))
	m.Warm()
	benchmarkQueries(b, m, evalQueries(b))
}

func BenchmarkMatchLarge(b *testing.B) {
	c := generatedCatalog(b, builtin(b), 10000)
	m := NewMatcher(c)
	m.Warm()
	b.ReportMetric(float64(len(c.Entries)), "entries")
	benchmarkQueries(b, m, evalQueries(b))
}

// BenchmarkLoadBuiltin is what `enrollbot ask` pays before its answer:
// load, validate, the matcher with no language index built yet.
func BenchmarkLoadBuiltin(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c, err := LoadBuiltin()
		if err != nil {
			b.Fatal(err)
		}
		NewMatcher(c)
	}
}

// BenchmarkLoadAndWarm is what `enrollbotd serve` pays at start: load and
// every language's index.
func BenchmarkLoadAndWarm(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c, err := LoadBuiltin()
		if err != nil {
			b.Fatal(err)
		}
		NewMatcher(c).Warm()
	}
}

// A lazily built index gives the same answers as one built up front.
//
// The warm matcher reads the index built ahead of time (index_gen.go), the
// cold one builds its own from the TOML files on first use: the same
// answers, scores and causes' order also say that nothing the matcher
// derives was left out of the generated index.
func TestLazyIndexSameAnswers(t *testing.T) {
	warm := NewMatcher(builtin(t))
	if warm.pre == nil {
		t.Fatal("the built-in catalog has no prebuilt index")
	}
	warm.Warm()
	fromFiles, err := Load(BuiltinFS())
	if err != nil {
		t.Fatal(err)
	}
	cold := NewMatcher(fromFiles)
	cold.Match("0x80180014")
	for _, lang := range Langs {
		if cold.idx[lang].li != nil {
			t.Errorf("a code alone built the %s index", lang)
		}
	}
	for _, q := range evalQueries(t) {
		a, b := warm.Match(q), cold.Match(q)
		if a.Outcome != b.Outcome || a.Lang != b.Lang || len(a.Candidates) != len(b.Candidates) {
			t.Errorf("%q: warm %s %v, cold %s %v", q, a.Outcome, a.Lang, b.Outcome, b.Lang)
			continue
		}
		for i := range a.Candidates {
			ca, cb := a.Candidates[i], b.Candidates[i]
			if ca.Entry.ID != cb.Entry.ID || ca.Score != cb.Score {
				t.Errorf("%q: candidate %d warm %s %.4f, cold %s %.4f", q, i, ca.Entry.ID, ca.Score, cb.Entry.ID, cb.Score)
			}
			if i == 0 {
				ra, rb := warm.RankCauses(ca.Entry, q), cold.RankCauses(cb.Entry, q)
				if !slices.Equal(ra, rb) {
					t.Errorf("%q: causes warm %v, cold %v", q, ra, rb)
				}
			}
		}
	}
}

// generatedCatalog grows base to n entries with synthetic ones whose text
// recombines the real catalog's words, so that the index has the real
// vocabulary's shape at a hundred times the size.
func generatedCatalog(tb testing.TB, base *Catalog, n int) *Catalog {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	pool := map[Lang][]string{}
	for _, e := range base.Entries {
		for _, lang := range Langs {
			pool[lang] = append(pool[lang], words(e.Title.In(lang))...)
			for _, cause := range e.Causes {
				pool[lang] = append(pool[lang], words(cause.Summary.In(lang))...)
			}
		}
	}
	sentence := func(lang Lang, k int) string {
		ws := make([]string, k)
		for i := range ws {
			ws[i] = pool[lang][rng.IntN(len(pool[lang]))]
		}
		return strings.Join(ws, " ")
	}
	c := &Catalog{Questions: base.Questions, Codes: base.Codes, Entries: slices.Clone(base.Entries), Talk: base.Talk, Topics: base.Topics, Glossary: base.Glossary}
	for i := len(c.Entries); i < n; i++ {
		id := fmt.Sprintf("synthetic-%d", i)
		e := &Entry{ID: id, file: "entries/ios/" + id + ".toml", Platform: IOS, Questions: []string{"platform"},
			Source: Source{Article: "synthetic", URL: "https://example.com"},
			Title:  Text{}, Messages: List{}, Causes: []Cause{{ID: "c", Summary: Text{}, Steps: List{}}}}
		if i%2 == 0 {
			e.Platform = Windows
		}
		for _, lang := range Langs {
			e.Title[lang] = sentence(lang, 4+rng.IntN(5))
			e.Messages[lang] = []string{sentence(lang, 6+rng.IntN(8))}
			e.Causes[0].Summary[lang] = sentence(lang, 8+rng.IntN(8))
			e.Causes[0].Steps[lang] = []string{sentence(lang, 10)}
		}
		c.Entries = append(c.Entries, e)
	}
	if probs := c.index(); len(probs) > 0 {
		tb.Fatal(probs)
	}
	return c
}

// TestLargeCatalogKeepsItsAnswers checks that the pruning that keeps large
// catalogs fast does not lose the real entries among 10,000 synthetic ones
// made of the same words.
func TestLargeCatalogKeepsItsAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-entry index")
	}
	base := builtin(t)
	small, large := NewMatcher(base), NewMatcher(generatedCatalog(t, base, 10000))
	f, err := os.Open("../testdata/eval/queries.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	same, total := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c struct {
			Q     string `json:"q"`
			Want  string `json:"want"`
			Entry string `json:"entry"`
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if c.Want != "answer" {
			continue
		}
		r := small.Match(c.Q)
		if r.Outcome != Answer || r.Candidates[0].Entry.ID != c.Entry {
			continue // judged by the eval, not here
		}
		total++
		if top, ok := large.Match(c.Q).Top(); ok && top.Entry.ID == c.Entry {
			same++
		}
	}
	t.Logf("large catalog keeps %d of %d answers as its best candidate", same, total)
	if float64(same) < 0.9*float64(total) {
		t.Errorf("large catalog keeps only %d of %d answers as its best candidate", same, total)
	}
}

// TestBuiltinScoringIsExact guards the claim that the large-catalog pruning
// never applies to the built-in catalog.
func TestBuiltinScoringIsExact(t *testing.T) {
	m := NewMatcher(builtin(t))
	for _, lang := range Langs {
		for term, p := range m.index(lang).postings {
			if len(p) > maxFullPostings {
				t.Errorf("%s %q has %d postings, over the exact-scoring bound %d", lang, term, len(p), maxFullPostings)
			}
		}
	}
}

// A headline several entries share, with nothing else that tells them
// apart, is offered as choices in every language; the rest of a message
// still decides when it does tell them apart.
func TestHeadlineOnlyOffersChoices(t *testing.T) {
	m := NewMatcher(builtin(t))
	for _, q := range []string{
		"ipad says profile installation failed, nothing else",
		"Fehler bei der Profilinstallation – mehr steht da nicht",
		"iPaden säger bara 'Det gick inte att installera profilen.' inget mer",
	} {
		if r := m.Match(q); r.Outcome != Choices || r.Choices < 3 {
			t.Errorf("%q: %s with %d choices, want the three Profile installation failed entries", q, r.Outcome, r.Choices)
		}
	}
	r := m.Match("Profile installation failed. Connection to the server could not be established.")
	if top, _ := r.Top(); r.Outcome != Answer || top.Entry.ID != "profile-installation-failed-connection-to-the-server-could-not-be-established" {
		t.Errorf("the full message: %s", r.Outcome)
	}
}

// Signals beyond the code: a sub-code names the failure above a generic
// code; an event id answers alone and beside a code its entry shares, but
// not against a code that points elsewhere; a signal naming a cause puts
// it first.
func TestSignals(t *testing.T) {
	m := NewMatcher(builtin(t))
	tests := []struct {
		name      string
		q         string
		outcome   Outcome
		entry     string
		firstCase string // the cause RankCauses puts first
	}{
		{"sub-code above a generic code", `0x801c0003 {"error":"invalid_request","SubCode":"MsaTicketTpmValidationFailed"}`,
			Answer, "registering-your-device-for-mobile-management-failed3-0x801c03ea", ""},
		{"AADSTS code", "token call says AADSTS50155: Device is not authenticated", Answer, "mdm-enrollment-error-0xcaa9001f", ""},
		{"event id alone", "we see Event 76 on every hybrid joined PC", Answer, "auto-mdm-enroll-failed", ""},
		{"event id in a viewer paste", "Log Name: ODJ Connector Service\nEvent ID:      30132\nLevel: Error", Answer,
			"something-went-wrong-error-code-80070774", "odj-connector-permissions"},
		{"event id in Dutch", "gebeurtenis-id 30132 op de connectorserver", Answer, "something-went-wrong-error-code-80070774", "odj-connector-permissions"},
		{"event id and the code its entry has", "Aufgabenplanung Ereignis 7016, Fehlercode 2149056522", Answer,
			"the-device-is-already-enrolled", "other-mdm"},
		{"event id against a code that points elsewhere", "Event 76 Auto MDM Enroll: Failed (Unknown Win32 Error code: 0x80180018)", CodeOnly, "", ""},
		{"a number that is no event", "76 devices fail with 0x8018002b", Answer, "auto-mdm-enroll-failed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := m.Match(tt.q)
			if r.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s (candidates %v)", r.Outcome, tt.outcome, r.Candidates)
			}
			if tt.entry == "" {
				return
			}
			top, _ := r.Top()
			if top.Entry.ID != tt.entry {
				t.Fatalf("answered %s, want %s", top.Entry.ID, tt.entry)
			}
			if tt.firstCase != "" {
				order := m.RankCauses(top.Entry, tt.q)
				if got := top.Entry.Causes[order[0]].ID; got != tt.firstCase {
					t.Errorf("first cause %s, want %s", got, tt.firstCase)
				}
			}
		})
	}
}

// Abbreviations admins write in capitals are matched as what they stand
// for in the query's language; the same letters in lower case are words
// ("dem" in German, "ca" in Swedish) and stay as they are.
func TestAbbreviations(t *testing.T) {
	m := NewMatcher(builtin(t))
	got := m.abbreviationsIn(symbolWords("CP and ESP on GCC-H, auf dem iPhone, ca 5 PCs, Cp"))
	if len(got) != 3 || !got["cp"] || !got["esp"] || !got["gcc"] {
		t.Errorf("abbreviations %v, want cp, esp and gcc", got)
	}
	if e := m.expand([]string{"cp", "crashes"}, got, German); !slices.Equal(e, []string{"cp", "unternehmensportal", "crashes"}) {
		t.Errorf("expanded %v", e)
	}
	tests := []struct{ q, entry string }{
		{"GCC-H users on iOS CP get sent to the commercial login instead of the gov cloud", "authentication-doesnt-redirect-to-the-government-cloud"},
		{"ESP timear ut innan inloggningsskärmen på alla nya datorer", "the-enrollment-status-page-times-out-before-the-sign-in-screen"},
	}
	for _, tt := range tests {
		r := m.Match(tt.q)
		if top, ok := r.Top(); !ok || top.Entry.ID != tt.entry || r.Outcome != Answer {
			t.Errorf("%q: %s %v, want an answer with %s", tt.q, r.Outcome, r.Candidates, tt.entry)
		}
	}
}

// Words the glossary keeps whole do not meet other words at their stem:
// an MDM authority problem is not a "not authorized" one.
func TestUnstemmedWords(t *testing.T) {
	m := NewMatcher(builtin(t))
	authority, _ := m.an.term("authority", English)
	authorized, _ := m.an.term("authorized", English)
	if authority == authorized {
		t.Fatalf("authority and authorized share the term %q", authority)
	}
	r := m.Match("user not authorized")
	if top, ok := r.Top(); ok && top.Entry.ID == "mdmauthoritynotdefined" {
		t.Errorf("\"user not authorized\" put the MDM authority entry first: %v", r.Candidates)
	}
}

// TestFuzzySymbolAsFindOverAll checks that handing fuzzy only the symbols
// that have every character of the word gives the same best match as
// handing it all of them, for every symbol with a character dropped,
// doubled, swapped or changed, and for the symbol-like words of the
// labelled queries.
func TestFuzzySymbolAsFindOverAll(t *testing.T) {
	m := NewMatcher(builtin(t))
	var probes []string
	for _, s := range m.symbols {
		rs := []rune(s)
		for i := range rs {
			probes = append(probes,
				string(append(slices.Clone(rs[:i]), rs[i+1:]...)),
				string(slices.Insert(slices.Clone(rs), i, rs[i])),
				string(append(append(slices.Clone(rs[:i]), 'q'), rs[i+1:]...)),
				strings.ToLower(string(rs[:i+1])))
			if i+1 < len(rs) {
				sw := slices.Clone(rs)
				sw[i], sw[i+1] = sw[i+1], sw[i]
				probes = append(probes, string(sw))
			}
		}
	}
	for _, q := range evalQueries(t) {
		probes = append(probes, symbolWords(q)...)
	}
	probes = append(probes, "Gerätekonfiguration", "DeviceManagement", "ÅtkomstNekad")
	matched := 0
	for _, w := range probes {
		want, wantOK := "", false
		if all := fuzzy.Find(w, m.symbols); len(all) > 0 {
			want, wantOK = m.symbols[all[0].Index], true
		}
		got, ok := m.fuzzySymbol(w)
		if got != want || ok != wantOK {
			t.Fatalf("%q: %q %v, over all symbols %q %v", w, got, ok, want, wantOK)
		}
		if ok {
			matched++
		}
	}
	if matched < len(probes)/4 {
		t.Fatalf("only %d of %d probes matched a symbol: the test no longer exercises the ranking", matched, len(probes))
	}
}
