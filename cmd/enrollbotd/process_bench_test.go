package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkServeIdleRSS starts `enrollbotd serve` (every index built,
// Teams in local mode, state in memory), waits until it says it serves and
// a second more, and reports the resident set it holds idle, from
// /proc/PID/status; the median and the largest of b.N starts:
//
//	go test ./cmd/enrollbotd -run '^$' -bench ServeIdleRSS -benchtime 5x
func BenchmarkServeIdleRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc (Linux)")
	}
	bin := filepath.Join(b.TempDir(), "enrollbotd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var rss []float64
	for range b.N {
		cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--teams-insecure-no-auth")
		cmd.Env = append(os.Environ(), "REDIS_URL=", "SLACK_BOT_TOKEN=", "SLACK_APP_TOKEN=", "SLACK_SIGNING_SECRET=", "MICROSOFT_APP_ID=", "MICROSOFT_APP_PASSWORD=")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		serving := make(chan bool, 1)
		read := make(chan struct{})
		go func() {
			defer close(read)
			sc := bufio.NewScanner(stdout)
			found := false
			for sc.Scan() {
				if !found && strings.Contains(sc.Text(), ": serving ") {
					found = true
					serving <- true
				}
			}
			if !found {
				serving <- false
			}
		}()
		// stop ends the server and waits for it, its output read first (as
		// os/exec asks of a StdoutPipe), on every way out of the iteration.
		stop := func(sig os.Signal) {
			_ = cmd.Process.Signal(sig)
			<-read
			_ = cmd.Wait()
		}
		var kib int64
		select {
		case ok := <-serving:
			if !ok {
				stop(os.Kill)
				b.Fatal("serve stopped before serving")
			}
			time.Sleep(time.Second)
			kib, err = residentKiB(cmd.Process.Pid)
		case <-time.After(30 * time.Second):
			err = errors.New("serve did not start within 30 s")
		}
		if err != nil {
			stop(os.Kill)
			b.Fatal(err)
		}
		stop(syscall.SIGTERM)
		rss = append(rss, float64(kib)/1024)
	}
	slices.Sort(rss)
	b.ReportMetric(rss[len(rss)/2], "idle-RSS-MiB")
	b.ReportMetric(rss[len(rss)-1], "max-idle-RSS-MiB")
}

// residentKiB reads VmRSS of process pid.
func residentKiB(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, os.ErrNotExist
}
