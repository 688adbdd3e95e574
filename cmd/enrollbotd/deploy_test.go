package main

import (
	"bufio"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// compose is the part of docker-compose.yml the code must agree with.
type compose struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
}

func TestComposeAgreesWithServe(t *testing.T) {
	data, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	app, ok := c.Services["enrollbot"]
	if !ok {
		t.Fatal("no enrollbot service")
	}
	redis, ok := c.Services["redis"]
	if !ok || len(redis.Healthcheck.Test) == 0 {
		t.Fatal("no redis service with a health check")
	}
	if i := slices.Index(redis.Command, "--appendonly"); i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] != "yes" {
		t.Errorf("redis %v does not keep an append-only file: a restart would lose open tickets", redis.Command)
	}
	if app.Build == nil || !slices.Equal(app.Command, []string{"serve"}) {
		t.Errorf("enrollbot must be built here and run serve: build %v command %v", app.Build, app.Command)
	}
	for name := range app.Environment {
		if !slices.Contains(configVars, name) {
			t.Errorf("compose sets %s, which serve does not read", name)
		}
	}
	for _, must := range []string{"ENROLLBOT_ADDR", "REDIS_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD"} {
		if _, ok := app.Environment[must]; !ok {
			t.Errorf("compose does not pass %s", must)
		}
	}
	if !strings.HasPrefix(app.Environment["REDIS_URL"], "redis://redis:") {
		t.Errorf("REDIS_URL %q does not point at the redis service", app.Environment["REDIS_URL"])
	}
	if app.DependsOn["redis"].Condition != "service_healthy" {
		t.Errorf("enrollbot does not wait for a healthy redis")
	}
	_, port, err := net.SplitHostPort(app.Environment["ENROLLBOT_ADDR"])
	if err != nil {
		t.Fatalf("ENROLLBOT_ADDR: %v", err)
	}
	if !slices.Contains(app.Ports, port+":"+port) {
		t.Errorf("ports %v do not publish the listen port %s", app.Ports, port)
	}
	hc := strings.Join(app.Healthcheck.Test, " ")
	if !strings.Contains(hc, "/enrollbotd healthcheck") || !strings.Contains(hc, ":"+port+"/readyz") {
		t.Errorf("health check %q does not ask serve's /readyz on its port", hc)
	}
}

func TestEnvExampleListsEveryVariable(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			names = append(names, name)
		}
	}
	for _, v := range configVars {
		if !slices.Contains(names, v) {
			t.Errorf(".env.example lacks %s", v)
		}
	}
	for _, n := range names {
		if !slices.Contains(configVars, n) {
			t.Errorf(".env.example lists %s, which serve does not read", n)
		}
	}
}

// TestDockerfileRunsTheServer checks that the image builds this command and
// that its entry point and health check run it: after the split, the image
// running enrollbot instead would start the terminal tool, not the server.
func TestDockerfileRunsTheServer(t *testing.T) {
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var build, entry, health string
	for line := range strings.Lines(string(data)) {
		switch {
		case strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build"):
			build = line
		case strings.HasPrefix(line, "ENTRYPOINT "):
			entry = line
		case strings.HasPrefix(line, "HEALTHCHECK "):
			health = line
		}
	}
	if !strings.Contains(build, "./cmd/enrollbotd") {
		t.Errorf("the image does not build ./cmd/enrollbotd: %q", build)
	}
	if !strings.Contains(entry, `"/enrollbotd"`) {
		t.Errorf("the image's entry point is not enrollbotd: %q", entry)
	}
	if !strings.Contains(health, `"/enrollbotd", "healthcheck"`) {
		t.Errorf("the image's health check does not run enrollbotd healthcheck: %q", health)
	}
}
