// Package teamsapp holds enrollbot's Microsoft Teams app: the manifest
// (manifest.json) and the icons (color.png, outline.png, drawn by
// ColorIcon and OutlineIcon), embedded so that the binary can zip the app
// package an admin sideloads (Package; `enrollbotd teams package`). The bot
// itself is in package bot/teams.
package teamsapp

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"regexp"
	"time"
)

//go:embed manifest.json
var manifestJSON []byte

//go:embed color.png
var colorPNG []byte

//go:embed outline.png
var outlinePNG []byte

// Manifest returns the embedded manifest template: its app and bot ids are
// the zero GUID until Package puts the bot's app id in.
func Manifest() []byte { return bytes.Clone(manifestJSON) }

// Icons returns the embedded icons, color.png and outline.png.
func Icons() (color, outline []byte) { return bytes.Clone(colorPNG), bytes.Clone(outlinePNG) }

// Options are what Package puts into the manifest.
type Options struct {
	// AppID is the bot's Microsoft app id (a GUID); it becomes the Teams
	// app id and the bot id. Required.
	AppID string
	// Version is the app's version (x.y.z); the manifest's when empty.
	// Teams wants it raised for every upload of a changed package.
	Version string
	// Manifest replaces the embedded manifest (an edited copy); the
	// embedded one when nil.
	Manifest []byte
}

var (
	guid    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	semver  = regexp.MustCompile(`^\d{1,9}\.\d{1,9}\.\d{1,9}$`)
	zeroApp = "00000000-0000-0000-0000-000000000000"
)

// Package writes the app package to w: a zip of manifest.json, with the
// app id and version filled in, and the two icons, at its root, as Teams
// wants it. It checks what Teams would refuse first: a malformed app id, a
// manifest without its required fields, icons of the wrong size.
func Package(w io.Writer, opts Options) error {
	if !guid.MatchString(opts.AppID) || opts.AppID == zeroApp {
		return fmt.Errorf("teams package: app id %q is not the bot's Microsoft app id (a GUID such as 6b1f7e0c-4a2d-4a43-9d8e-3c0f6a1b2c3d)", opts.AppID)
	}
	if opts.Version != "" && !semver.MatchString(opts.Version) {
		return fmt.Errorf("teams package: version %q is not x.y.z", opts.Version)
	}
	raw := opts.Manifest
	if raw == nil {
		raw = manifestJSON
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("teams package: manifest: %w", err)
	}
	if err := fill(m, opts); err != nil {
		return fmt.Errorf("teams package: manifest: %w", err)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("teams package: encode manifest: %w", err)
	}
	for _, icon := range []struct {
		name string
		data []byte
		size int
	}{{"color.png", colorPNG, ColorIconSize}, {"outline.png", outlinePNG, OutlineIconSize}} {
		if err := checkIcon(icon.data, icon.size); err != nil {
			return fmt.Errorf("teams package: %s: %w", icon.name, err)
		}
	}

	zw := zip.NewWriter(w)
	// A fixed time: the same inputs make the same package.
	stamp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []struct {
		name string
		data []byte
	}{{"manifest.json", append(manifest, '\n')}, {"color.png", colorPNG}, {"outline.png", outlinePNG}} {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: stamp})
		if err != nil {
			return fmt.Errorf("teams package: add %s: %w", f.name, err)
		}
		if _, err := fw.Write(f.data); err != nil {
			return fmt.Errorf("teams package: write %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("teams package: finish the zip: %w", err)
	}
	return nil
}

// fill puts the app id and version into a manifest and checks the fields
// Teams requires of a bot's app.
func fill(m map[string]any, opts Options) error {
	for _, k := range []string{"$schema", "manifestVersion", "version", "id", "developer", "name", "description", "icons", "accentColor", "bots"} {
		if _, ok := m[k]; !ok {
			return fmt.Errorf("no %q", k)
		}
	}
	m["id"] = opts.AppID
	if opts.Version != "" {
		m["version"] = opts.Version
	}
	bots, _ := m["bots"].([]any)
	if len(bots) != 1 {
		return errors.New("want exactly one bot")
	}
	b, ok := bots[0].(map[string]any)
	if !ok {
		return errors.New("the bot is not an object")
	}
	b["botId"] = opts.AppID
	icons, _ := m["icons"].(map[string]any)
	if icons["color"] != "color.png" || icons["outline"] != "outline.png" {
		return fmt.Errorf("icons %v, want color.png and outline.png", icons)
	}
	return nil
}

// checkIcon checks that data is a PNG of size×size.
func checkIcon(data []byte, size int) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if format != "png" || cfg.Width != size || cfg.Height != size {
		return fmt.Errorf("%s of %d×%d, want a png of %d×%d", format, cfg.Width, cfg.Height, size, size)
	}
	return nil
}
