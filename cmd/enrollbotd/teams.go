package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/enrollbot/enrollbot/internal/cli"

	teamsapp "github.com/enrollbot/enrollbot/bot/teamsapp"
)

// runTeams runs `enrollbotd teams package`: it zips the Teams app package
// (manifest with the bot's app id, and the icons) for an admin to sideload.
func runTeams(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "package" {
		return cli.ExitError{Code: 2, Msg: usage}
	}
	fs := flag.NewFlagSet("teams package", flag.ContinueOnError)
	out := fs.String("out", "enrollbot-teams.zip", "the app package to write")
	appID := fs.String("app-id", os.Getenv("MICROSOFT_APP_ID"), "the bot's Microsoft app id (MICROSOFT_APP_ID)")
	version := fs.String("version", "", "the app's version, x.y.z (raise it for every upload of a changed package); the manifest's when empty")
	manifest := fs.String("manifest", "", "an edited manifest.json to package instead of the built-in one")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return cli.ExitError{Code: 2, Msg: usage}
	}
	opts := teamsapp.Options{AppID: *appID, Version: *version}
	if *manifest != "" {
		data, err := os.ReadFile(*manifest)
		if err != nil {
			return fmt.Errorf("read manifest: %w", err)
		}
		opts.Manifest = data
	}
	// Written next to its destination and renamed, so that a failure
	// leaves no half package behind.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".enrollbot-teams-*.zip")
	if err != nil {
		return fmt.Errorf("create the app package: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := teamsapp.Package(tmp, opts); err != nil {
		tmp.Close()
		return cli.ExitError{Code: 2, Msg: "enrollbotd " + err.Error()}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the app package: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write the app package: %w", err)
	}
	fmt.Fprintf(stdout, "enrollbot: wrote %s for app %s; upload it in Teams: Apps > Manage your apps > Upload an app (see bot/teamsapp/README.md)\n", *out, *appID)
	return nil
}
