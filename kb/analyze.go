package kb

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/swedish"
	"golang.org/x/text/unicode/norm"
)

// stemmers are the Snowball stemmers for the catalog languages.
var stemmers = map[Lang]func(*snowballstem.Env) bool{
	English: english.Stem,
	Dutch:   dutch.Stem,
	Swedish: swedish.Stem,
	German:  german.Stem,
}

// stopwords are the function words of each language: dropped before
// matching, and the strongest evidence of which language a user writes in.
var stopwords = map[Lang]string{
	English: `a an the is are was were be been being to of in on at for with and or but not no this that these those
		it its my our your you we i me he she they them his her their what when where which who how why do does did
		done have has had can could would should will shall may might must am so if then than there here from by as
		about into out up just also too very please help thanks thank hi hello hey now get got gets says say said
		see shows show showing keeps still any some someone anyone something anything what's i'm it's don't doesn't
		can't won't isn't after before while again getting any want wants`,
	Dutch: `de het een en van in op te is zijn was waren voor met aan niet geen dat die dit deze er ik je jij u uw we
		wij mijn ons onze hij zij ze wat hoe waarom wanneer waar welk welke als dan of maar ook nog al bij naar om tot
		door over uit heb hebt heeft hebben kan kun kunt kunnen wordt worden werd moet moeten zal zou mag toch even nu
		hallo hoi dank bedankt graag iets zegt staat krijg krijgen krijgt mijn hier daar steeds telkens na
		wil wilt willen iemand`,
	Swedish: `och i att det som en ett är var på för med till av den de inte jag du vi min mitt mina vår er han hon
		dem vad hur varför när vilken vilket vilka om men också så har hade kan kunde ska skulle får fick blir blev nu
		hej tack från vid efter står säger mig min där här fortfarande hela något någon vill`,
	German: `der die das den dem des ein eine einen einem einer und oder aber nicht kein keine ist sind war waren zu
		von im auf für mit an bei nach aus ich du sie wir er es mein meine meinem unser was wie warum wann wo welche
		welcher wenn dann auch noch schon hat habe haben kann können wird werden soll muss hallo danke bitte jetzt
		immer zeigt steht kommt bekomme mir mich hier dort bei beim nach etwas will möchte möchten jemand jemanden`,
}

// genericWords are the words every enrollment question uses. They say the
// question is on topic, not which error it is about.
var genericWords = map[Lang]string{
	English: `enroll enrol enrollment enrolment enrolling enrolled register registration device devices intune error
		errors fail failed failing failure fails work works working broken problem problems issue issues help user
		users mdm phone laptop computer iphone ipad windows again`,
	Dutch: `inschrijven inschrijving ingeschreven registreren registratie apparaat apparaten intune fout foutmelding
		fouten mislukt mislukken werkt werken kapot probleem problemen gebruiker gebruikers lukt`,
	Swedish: `registrera registrering registreringen registrerad enhet enheten enheter intune fel felet
		felmeddelande misslyckas misslyckades fungerar funkar trasig problem problemet användare användaren användarna`,
	German: `registrieren registrierung registriert gerät geräte intune fehler fehlermeldung fehlgeschlagen
		funktioniert klappt kaputt problem probleme benutzer benutzern`,
}

// analyzer turns text into index terms for one language: lower-cased words,
// function words of every catalog language dropped (users mix languages),
// Snowball-stemmed, diacritics folded so "geinstalleerd" meets "geïnstalleerd".
type analyzer struct {
	stop map[string]bool
	// generic holds each language's generic words as terms.
	generic map[Lang]map[string]bool
	// whole are words matched whole, not stemmed (glossary unstemmed).
	whole map[string]bool
}

func newAnalyzer(unstemmed ...string) *analyzer {
	a := &analyzer{stop: map[string]bool{}, generic: map[Lang]map[string]bool{}, whole: map[string]bool{}}
	for _, w := range unstemmed {
		a.whole[strings.ToLower(w)] = true
	}
	for _, lang := range Langs {
		for _, w := range strings.Fields(stopwords[lang]) {
			a.stop[w] = true
		}
	}
	for _, lang := range Langs {
		a.generic[lang] = map[string]bool{}
		for _, w := range strings.Fields(genericWords[lang]) {
			if t, ok := a.term(w, lang); ok {
				a.generic[lang][t] = true
			}
		}
	}
	return a
}

// words splits text into lower-case words. Apostrophes stay inside words
// (doesn't) and underscores split symbols into their parts.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’')
	})
}

// isCodeWord reports words that are error codes rather than language; the
// code finder handles them, and as text they would only dilute a match.
func isCodeWord(w string) bool {
	if strings.HasPrefix(w, "0x") {
		return true
	}
	if len(w) < 6 {
		return false
	}
	digits := 0
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r >= 'a' && r <= 'f':
		default:
			return false
		}
	}
	return digits > 0
}

// terms returns the index terms of text for lang, in order, repeats kept.
func (a *analyzer) terms(text string, lang Lang) []string {
	ws := words(text)
	out := ws[:0]
	for _, w := range ws {
		w = strings.Trim(w, "'’")
		if t, ok := a.term(w, lang); ok {
			out = append(out, t)
		}
	}
	return out
}

// term analyzes one lower-case word; ok is false for words that carry no
// meaning for matching (stop words, single letters, codes).
func (a *analyzer) term(w string, lang Lang) (string, bool) {
	if utf8.RuneCountInString(w) < 2 || a.stop[w] || isCodeWord(w) {
		return "", false
	}
	if a.whole[w] {
		return fold(w), true
	}
	env := snowballstem.NewEnv(w)
	stemmers[lang](env)
	return fold(env.Current()), true
}

// fold removes diacritics. ASCII, the common case, returns at once.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Mn, r):
			return -1
		case r == 'ß':
			return 's'
		}
		return r
	}, norm.NFD.String(s))
}
