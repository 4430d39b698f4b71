package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

func TestPercentile(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	for _, c := range []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", []float64{7}, 99, 7},
		{"p0 is the minimum", ten, 0, 1},
		{"median of ten is the fifth", ten, 50, 5},
		{"p90 of ten", ten, 90, 9},
		{"p99 of ten rounds up to the maximum", ten, 99, 10},
		{"p100 is the maximum", ten, 100, 10},
		{"p99 of a hundred", hundred, 99, 99},
		{"p50 of a hundred", hundred, 50, 50},
		{"p99.9 of a hundred", hundred, 99.9, 100},
		{"rank rounds up, never interpolates", []float64{10, 20, 30}, 34, 20},
		{"over 100 clamps", ten, 150, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := percentile(c.sorted, c.p); got != c.want {
				t.Fatalf("percentile(%v, %v) = %v, want %v", c.sorted, c.p, got, c.want)
			}
		})
	}
}

func TestSummarizeSortsACopy(t *testing.T) {
	in := []float64{30, 10, 20, 40}
	l := summarize(in)
	if l != (Latency{Count: 4, P50: 20, P90: 40, P99: 40, Max: 40}) {
		t.Fatalf("summarize = %+v", l)
	}
	if in[0] != 30 {
		t.Fatal("summarize reordered its input")
	}
	if (summarize(nil) != Latency{}) {
		t.Fatal("summarize(nil) is not zero")
	}
}

func TestScanSummaryText(t *testing.T) {
	s := &ScanSummary{Mode: modeRandom, CodeID: 3, CodeName: "loadgen-caps x", Requested: 4, Sent: 4, WelcomesSeen: 3,
		WelcomesMissing: 1, ExpiredCodes: 1, WelcomeErrors: map[string]int{"41050": 1},
		Latency: Latency{Count: 3, P50: 12, P90: 30, P99: 30, Max: 30},
		Staff:   []StaffCount{{UserID: "zhangsan", Cap: 2, Scans: 3, Welcomes: 2}, {UserID: "lisi", Scans: 1, Welcomes: 1}}}
	var b bytes.Buffer
	s.text(&b)
	out := b.String()
	for _, want := range []string{"4 of 4 sent", "3 seen, 1 missing, 1 expired", "41050×1", "p50 12.0 ms",
		"userid    cap  scans  welcomes", "zhangsan  2    3      2", "lisi      -    1      1"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "landings") || s.ok() {
		t.Errorf("random-mode text shows landings, or a run with a missing welcome is ok:\n%s", out)
	}
}

func TestPaceSpacesStarts(t *testing.T) {
	out := make(chan int)
	t0 := time.Now()
	go func() { pace(context.Background(), 6, 100, t0, out); close(out) }()
	var got []int
	for i := range out {
		got = append(got, i)
	}
	// Six starts at 100/s: the last is due 50 ms after the first.
	if el := time.Since(t0); el < 45*time.Millisecond {
		t.Fatalf("6 starts at 100/s took %v", el)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4 5]" {
		t.Fatalf("order %v", got)
	}
}

func TestFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-h"}, 0, "-callbacks"},
		{[]string{"-scans", "0"}, 2, "-scans"},
		{[]string{"-concurrency", "0"}, 2, "-concurrency"},
		{[]string{"-caps", "3,x"}, 2, "-caps"},
		{[]string{"-callbacks", "5"}, 2, "-url"},
		{[]string{"-callbacks", "5", "-url", "http://x/wecom/callback/c", "-corp", "c", "-token", "t"}, 2, "-aes-key"},
		{[]string{"extra"}, 2, "unexpected"},
		{[]string{"-fault", "api=send_welcome_msg,errcode=x"}, 2, "-fault"},
		{[]string{"-fault", "errcode=45009"}, 2, "names no api"},
		{[]string{"-fault", "api=x,when=5s"}, 2, "unknown key"},
		{[]string{"-token-file", filepath.Join(t.TempDir(), "none.txt")}, 1, "token file"},
	} {
		var out, errb bytes.Buffer
		if code := run(c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("run(%q) = %d, stderr %q; want %d mentioning %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
}

func TestListenURL(t *testing.T) {
	for in, want := range map[string]string{
		"": "http://127.0.0.1:8080", ":9090": "http://127.0.0.1:9090", "0.0.0.0:9090": "http://127.0.0.1:9090",
		"[::]:9091": "http://127.0.0.1:9091", "10.0.0.5:7000": "http://10.0.0.5:7000", "[::1]:7001": "http://[::1]:7001",
		"nonsense": "http://127.0.0.1:8080",
	} {
		if got := listenURL(in); got != want {
			t.Errorf("listenURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// demoGateway builds and starts the real gateway in demo mode on a free
// port with its database in a temporary directory. It returns the base URL
// and the admin token file.
func demoGateway(t *testing.T) (base, tokenFile string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the gateway")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to build the gateway")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/leadgate/scrm-gateway/cmd/gateway")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build gateway: %v\n%s", err, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	logPath := filepath.Join(dir, "gateway.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEWAY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GATEWAY_LISTEN="+addr, "GATEWAY_DB_DSN="+filepath.Join(dir, "gateway.db"), "GATEWAY_DEMO=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("gateway log (tail):\n%s", b)
		}
	})

	base = "http://" + addr
	tokenFile = filepath.Join(dir, "demo-admin-token.txt")
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if _, ferr := os.Stat(tokenFile); resp.StatusCode == http.StatusOK && ferr == nil {
				return base, tokenFile
			}
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("gateway exited early: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("gateway did not become ready")
		}
	}
}

func runJSON(t *testing.T, want int, out any, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append(args, "-json"), &stdout, &stderr)
	if code != want {
		t.Fatalf("loadgen %q exited %d, want %d\nstdout: %s\nstderr: %s", args, code, want, stdout.String(), stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, stdout.String())
	}
	return stderr.String()
}

// TestAgainstDemoGateway drives the real gateway binary in demo mode, as
// the README does: go run ./cmd/gateway, then loadgen.
func TestAgainstDemoGateway(t *testing.T) {
	base, tokenFile := demoGateway(t)
	common := []string{"-gateway", base, "-token-file", tokenFile, "-wait", "25s", "-concurrency", "8"}

	t.Run("scans", func(t *testing.T) {
		var s ScanSummary
		runJSON(t, 0, &s, append(common, "-scans", "20")...)
		if s.Mode != modeRandom || s.Sent != 20 || s.ScanErrors != 0 || s.WelcomesSeen != 20 || s.WelcomesMissing != 0 ||
			s.ExpiredCodes != 0 || s.Latency.Count != 20 || s.Latency.P50 <= 0 || s.Latency.Max < s.Latency.P99 {
			t.Fatalf("summary %+v", s)
		}
		scans, welcomes := 0, 0
		for _, c := range s.Staff {
			scans += c.Scans
			welcomes += c.Welcomes
		}
		if len(s.Staff) != 5 || scans != 20 || welcomes != 20 {
			t.Fatalf("staff %+v", s.Staff)
		}

		// A second run reuses the code instead of making another contact way.
		var again ScanSummary
		stderr := runJSON(t, 0, &again, append(common, "-scans", "5", "-rate", "50")...)
		if again.CodeID != s.CodeID || again.WelcomesSeen != 5 || !strings.Contains(stderr, "reusing") {
			t.Fatalf("second run %+v; stderr %s", again, stderr)
		}
	})

	// Without -gateway, loadgen finds a gateway that GATEWAY_LISTEN moved.
	t.Run("follows GATEWAY_LISTEN", func(t *testing.T) {
		t.Setenv("GATEWAY_LISTEN", strings.TrimPrefix(base, "http://"))
		var s ScanSummary
		runJSON(t, 0, &s, "-token-file", tokenFile, "-wait", "25s", "-scans", "3")
		if s.Sent != 3 || s.WelcomesSeen != 3 {
			t.Fatalf("summary %+v", s)
		}
	})

	// The repro, small: one 45009 on the welcome API mid-burst
	// costs no welcome.
	t.Run("a 45009 mid-burst", func(t *testing.T) {
		var s ScanSummary
		stderr := runJSON(t, 0, &s, append(common, "-scans", "20", "-rate", "20",
			"-fault", "api=send_welcome_msg,errcode=45009,count=1,at=300ms")...)
		if s.Sent != 20 || s.WelcomesSeen != 20 || s.WelcomeErrors["45009"] != 1 || !strings.Contains(stderr, "fault on send_welcome_msg") {
			t.Fatalf("summary %+v; stderr %s", s, stderr)
		}
	})

	t.Run("random mode with caps gets a fresh code", func(t *testing.T) {
		var s ScanSummary
		runJSON(t, 0, &s, append(common, "-scans", "10", "-caps", "1", "-rate", "20")...)
		if s.Mode != modeRandom || s.Sent != 10 || s.WelcomesSeen != 10 || !strings.HasPrefix(s.CodeName, "loadgen-caps ") {
			t.Fatalf("summary %+v", s)
		}
		for _, c := range s.Staff {
			if c.Cap != 1 {
				t.Errorf("staff %+v: want cap 1", c)
			}
		}
	})

	t.Run("precise caps are exact", func(t *testing.T) {
		var s ScanSummary
		runJSON(t, 0, &s, append(common, "-precise", "-scans", "20", "-caps", "2,3,4,5,6")...)
		if s.Mode != modePrecise || s.Sent != 20 || s.LandingErrors != 0 || s.Mismatched != 0 || s.WelcomesSeen != 20 {
			t.Fatalf("summary %+v", s)
		}
		for _, c := range s.Staff {
			if c.Cap == 0 || c.Landings != c.Cap || c.Scans != c.Cap || c.Welcomes != c.Cap {
				t.Errorf("staff %+v: want landings, scans and welcomes equal to the cap", c)
			}
		}
	})

	t.Run("precise beyond every cap fails the run", func(t *testing.T) {
		var s ScanSummary
		runJSON(t, 1, &s, append(common, "-precise", "-scans", "7", "-caps", "1")...)
		if s.Sent != 5 || s.LandingErrors != 2 || len(s.Errors) == 0 || !strings.Contains(s.Errors[0], "503") {
			t.Fatalf("summary %+v", s)
		}
	})

	cfg, err := wecomsim.NewControl(base, nil).Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cbURL := base + "/wecom/callback/" + cfg.CorpID

	t.Run("callbacks", func(t *testing.T) {
		var s CallbackSummary
		runJSON(t, 0, &s, "-callbacks", "30", "-concurrency", "4", "-url", cbURL, "-corp", cfg.CorpID,
			"-token", cfg.Token, "-aes-key", cfg.EncodingAESKey)
		if s.Sent != 30 || s.Accepted != 30 || s.Errors != 0 || len(s.Rejected) != 0 || s.Latency.Count != 30 || s.AcceptedPerSec <= 0 {
			t.Fatalf("summary %+v", s)
		}
	})

	t.Run("callbacks with the wrong token are counted as rejected", func(t *testing.T) {
		var s CallbackSummary
		runJSON(t, 1, &s, "-callbacks", "5", "-url", cbURL, "-corp", cfg.CorpID,
			"-token", "not-the-token", "-aes-key", cfg.EncodingAESKey)
		if s.Accepted != 0 || s.Rejected["401"] != 5 {
			t.Fatalf("summary %+v", s)
		}
	})
}
