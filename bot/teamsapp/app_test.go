package teamsapp

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "redraw color.png and outline.png")

const testAppID = "6b1f7e0c-4a2d-4a43-9d8e-3c0f6a1b2c3d"

// TestIconsUpToDate keeps the committed icons what ColorIcon and
// OutlineIcon draw (compared pixel by pixel, so that a new PNG encoder
// does not matter); -update redraws them.
func TestIconsUpToDate(t *testing.T) {
	for _, icon := range []struct {
		file string
		img  image.Image
		size int
	}{{"color.png", ColorIcon(), ColorIconSize}, {"outline.png", OutlineIcon(), OutlineIconSize}} {
		if *update {
			data, err := EncodePNG(icon.img)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(icon.file, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Open(icon.file)
		if err != nil {
			t.Fatalf("%v (run go test ./teams/ -update)", err)
		}
		committed, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b := committed.Bounds(); b.Dx() != icon.size || b.Dy() != icon.size {
			t.Errorf("%s is %v, want %d×%d", icon.file, b, icon.size, icon.size)
		}
		for y := range icon.size {
			for x := range icon.size {
				want := color.NRGBAModel.Convert(icon.img.At(x, y))
				if got := color.NRGBAModel.Convert(committed.At(x, y)); got != want {
					t.Fatalf("%s differs at (%d,%d): %v, drawn %v (run go test ./teams/ -update)", icon.file, x, y, got, want)
				}
			}
		}
	}
}

// TestOutlineIconWhiteOnTransparent checks what Teams requires of the
// outline icon: white and transparency only; and that both icons show
// something.
func TestOutlineIconWhiteOnTransparent(t *testing.T) {
	img := OutlineIcon()
	opaque := 0
	for y := range OutlineIconSize {
		for x := range OutlineIconSize {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if c.A > 0 && (c.R != 255 || c.G != 255 || c.B != 255) {
				t.Fatalf("pixel (%d,%d) is %v, not white", x, y, c)
			}
			if c.A == 255 {
				opaque++
			}
		}
	}
	if opaque < 40 || opaque > OutlineIconSize*OutlineIconSize/2 {
		t.Errorf("%d opaque pixels: the glyph is missing or fills the icon", opaque)
	}
	col := ColorIcon()
	if c := color.NRGBAModel.Convert(col.At(ColorIconSize/2, 4)).(color.NRGBA); c != accent {
		t.Errorf("color icon background %v, want the accent %v", c, accent)
	}
	if c := color.NRGBAModel.Convert(col.At(0, 0)).(color.NRGBA); c.A != 0 {
		t.Errorf("color icon corner %v, want transparent (rounded)", c)
	}
}

func TestManifest(t *testing.T) {
	var m struct {
		Schema          string `json:"$schema"`
		ManifestVersion string `json:"manifestVersion"`
		Version         string `json:"version"`
		ID              string `json:"id"`
		Developer       map[string]string
		Name            struct{ Short, Full string }
		Description     struct{ Short, Full string }
		Icons           struct{ Color, Outline string }
		AccentColor     string `json:"accentColor"`
		Bots            []struct {
			BotID        string   `json:"botId"`
			Scopes       []string `json:"scopes"`
			CommandLists []struct {
				Scopes   []string
				Commands []struct{ Title, Description string }
			} `json:"commandLists"`
		}
	}
	if err := json.Unmarshal(Manifest(), &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Schema, "/v"+m.ManifestVersion+"/") {
		t.Errorf("$schema %s does not match manifestVersion %s", m.Schema, m.ManifestVersion)
	}
	if !semver.MatchString(m.Version) || m.ID != zeroApp {
		t.Errorf("version %q, id %q", m.Version, m.ID)
	}
	for _, k := range []string{"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"} {
		if v := m.Developer[k]; v == "" || (k != "name" && !strings.HasPrefix(v, "https://")) {
			t.Errorf("developer.%s = %q", k, v)
		}
	}
	limits := []struct {
		field, v string
		max      int
	}{{"name.short", m.Name.Short, 30}, {"name.full", m.Name.Full, 100},
		{"description.short", m.Description.Short, 80}, {"description.full", m.Description.Full, 4000}}
	for _, l := range limits {
		if n := utf8.RuneCountInString(l.v); n == 0 || n > l.max {
			t.Errorf("%s has %d characters, Teams allows 1 to %d", l.field, n, l.max)
		}
	}
	if m.Icons.Color != "color.png" || m.Icons.Outline != "outline.png" || m.AccentColor != "#0F6CBD" {
		t.Errorf("icons %+v, accent %s", m.Icons, m.AccentColor)
	}
	if len(m.Bots) != 1 {
		t.Fatalf("%d bots", len(m.Bots))
	}
	bot := m.Bots[0]
	if strings.Join(bot.Scopes, ",") != "personal,team,groupChat" {
		t.Errorf("bot scopes %v", bot.Scopes)
	}
	var titles []string
	for _, cl := range bot.CommandLists {
		for _, c := range cl.Commands {
			titles = append(titles, c.Title)
			if len(c.Title) > 32 || len(c.Description) > 128 {
				t.Errorf("command %q too long", c.Title)
			}
		}
	}
	if strings.Join(titles, ",") != "help,lang" {
		t.Errorf("commands %v, want help and lang (what the bot answers)", titles)
	}
}

func TestPackage(t *testing.T) {
	var buf bytes.Buffer
	if err := Package(&buf, Options{AppID: testAppID, Version: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = data
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "manifest.json,color.png,outline.png" {
		t.Fatalf("package holds %v, want the three files at its root", names)
	}
	var m map[string]any
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	bot := m["bots"].([]any)[0].(map[string]any)
	if m["id"] != testAppID || bot["botId"] != testAppID || m["version"] != "1.2.3" {
		t.Errorf("id %v, botId %v, version %v", m["id"], bot["botId"], m["version"])
	}
	c, o := Icons()
	if !bytes.Equal(files["color.png"], c) || !bytes.Equal(files["outline.png"], o) {
		t.Error("icons differ from the embedded ones")
	}
	// The same inputs make the same package.
	var again bytes.Buffer
	if err := Package(&again, Options{AppID: testAppID, Version: "1.2.3"}); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("a second package differs (%v)", err)
	}
}

func TestPackageRefusesWhatTeamsWould(t *testing.T) {
	for name, opts := range map[string]Options{
		"no app id":      {},
		"zero app id":    {AppID: zeroApp},
		"not a GUID":     {AppID: "enrollbot"},
		"bad version":    {AppID: testAppID, Version: "1.0"},
		"broken json":    {AppID: testAppID, Manifest: []byte("{")},
		"no bots":        {AppID: testAppID, Manifest: []byte(`{"$schema":"x","manifestVersion":"1.17","version":"1.0.0","id":"x","developer":{},"name":{},"description":{},"icons":{"color":"color.png","outline":"outline.png"},"accentColor":"#000000","bots":[]}`)},
		"no developer":   {AppID: testAppID, Manifest: []byte(`{"id":"x"}`)},
		"other icon set": {AppID: testAppID, Manifest: bytes.Replace(Manifest(), []byte(`"color.png"`), []byte(`"icon.png"`), 1)},
	} {
		if err := Package(io.Discard, opts); err == nil {
			t.Errorf("%s: packaged", name)
		}
	}
}
