package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkAskProcess runs `enrollbot ask 0x80180014` as a whole process,
// the way a user does, and reports its wall time (start to exit) and peak
// RSS (under GNU time, in runs of their own) beside a Go program that only
// prints a constant (the floor any Go binary pays, and the cost of
// starting a process from here):
//
//	go test ./cmd/enrollbot -run '^$' -bench AskProcess -benchtime 30x
//
// text-ask is an English device message pasted whole: the matching index
// and the language detector come into play (built ahead of time).
func BenchmarkAskProcess(b *testing.B) {
	const deviceMessage = "Profile Installation Failed. Connection to the server could not be established."
	dir := b.TempDir()
	bin := filepath.Join(dir, "enrollbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	minimal := filepath.Join(dir, "minimal")
	src := filepath.Join(dir, "minimal.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("go", "build", "-o", minimal, src).CombinedOutput(); err != nil {
		b.Fatalf("build the minimal program: %v\n%s", err, out)
	}
	// GNU time reads the peak RSS: the rusage of a child of this (large)
	// test process would count the pages it shared before exec.
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		b.Skip("GNU time (/usr/bin/time) is needed to read peak RSS")
	}
	rssFile := filepath.Join(dir, "rss")
	// peakRSS runs the program under GNU time, outside the timed runs (GNU
	// time is one more process to start), and returns its peak RSS in KiB.
	peakRSS := func(name string, args ...string) int64 {
		cmd := exec.Command(timeBin, append([]string{"-f", "%M", "-o", rssFile, name}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		data, err := os.ReadFile(rssFile)
		if err != nil {
			b.Fatal(err)
		}
		rss, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			b.Fatalf("peak RSS %q: %v", data, err)
		}
		return rss
	}
	// wall runs the program as a shell would, and times it from start to
	// exit.
	wall := func(name string, args ...string) time.Duration {
		cmd := exec.Command(name, args...)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		return time.Since(start)
	}
	var askTime, textTime, baseTime time.Duration
	var askRSS, textRSS, baseRSS int64
	b.ResetTimer()
	for range b.N {
		askTime += wall(bin, "ask", "0x80180014")
		textTime += wall(bin, "ask", deviceMessage)
		baseTime += wall(minimal)
		b.StopTimer()
		askRSS = max(askRSS, peakRSS(bin, "ask", "0x80180014"))
		textRSS = max(textRSS, peakRSS(bin, "ask", deviceMessage))
		baseRSS = max(baseRSS, peakRSS(minimal))
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(askTime.Microseconds())/float64(b.N)/1000, "ask-ms")
	b.ReportMetric(float64(askRSS)/1024, "ask-peak-MiB")
	b.ReportMetric(float64(textTime.Microseconds())/float64(b.N)/1000, "text-ask-ms")
	b.ReportMetric(float64(textRSS)/1024, "text-ask-peak-MiB")
	b.ReportMetric(float64(baseTime.Microseconds())/float64(b.N)/1000, "minimal-ms")
	b.ReportMetric(float64(baseRSS)/1024, "minimal-peak-MiB")
}
