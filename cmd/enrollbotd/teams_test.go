package main

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/enrollbot/enrollbot/internal/cli"
)

func TestTeamsPackageCommand(t *testing.T) {
	const appID = "6b1f7e0c-4a2d-4a43-9d8e-3c0f6a1b2c3d"
	out := filepath.Join(t.TempDir(), "enrollbot-teams.zip")
	t.Setenv("MICROSOFT_APP_ID", appID)
	var stdout strings.Builder
	if err := run(t.Context(), []string{"teams", "package", "--out", out, "--version", "1.0.1"}, nil, &stdout, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), out) {
		t.Errorf("output %q does not name the package", stdout.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	var manifest map[string]any
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name == "manifest.json" {
			rc, _ := f.Open()
			data, _ := io.ReadAll(rc)
			rc.Close()
			if err := json.Unmarshal(data, &manifest); err != nil {
				t.Fatal(err)
			}
		}
	}
	if strings.Join(names, ",") != "manifest.json,color.png,outline.png" {
		t.Errorf("package holds %v", names)
	}
	if manifest["id"] != appID || manifest["version"] != "1.0.1" {
		t.Errorf("manifest id %v, version %v", manifest["id"], manifest["version"])
	}

	// Without an app id: a usage error, and no file.
	t.Setenv("MICROSOFT_APP_ID", "")
	missing := filepath.Join(t.TempDir(), "x.zip")
	err = run(t.Context(), []string{"teams", "package", "--out", missing}, nil, io.Discard, nil)
	var ex cli.ExitError
	if !errors.As(err, &ex) || ex.Code != 2 || !strings.Contains(ex.Msg, "app id") {
		t.Errorf("without an app id: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(missing), "*")); len(matches) != 0 {
		t.Errorf("left behind: %v", matches)
	}
	if err := run(t.Context(), []string{"teams"}, nil, io.Discard, nil); !errors.As(err, &ex) || ex.Code != 2 {
		t.Errorf("teams without a subcommand: %v", err)
	}
}
