package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesAndStops(t *testing.T) {
	var got []string
	var mu sync.Mutex
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.Path)
		mu.Unlock()
		io.WriteString(w, "success")
	}))
	defer gateway.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-corp", "wwcmdtest", "-callback",
			gateway.URL + "/wecom/callback/wwcmdtest", "-seed", "5"}, &stdout, &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, stderr.String())
	}
	base := "http://" + addr
	out := stdout.String()
	for _, want := range []string{"GATEWAY_WECOM_API_BASE=" + base, "GATEWAY_CORP_ID=wwcmdtest", "GATEWAY_CALLBACK_AES_KEY="} {
		if !strings.Contains(out, want) {
			t.Fatalf("banner lacks %q:\n%s", want, out)
		}
	}

	c := wecomsim.NewControl(base, nil)
	cfg, err := c.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Generated credentials are usable callback crypto.
	if _, err := wecom.NewCrypter(cfg.Token, cfg.EncodingAESKey, cfg.CorpID); err != nil || len(cfg.Secret) < 32 {
		t.Fatalf("generated credentials: %+v %v", cfg, err)
	}
	g, err := c.CreateGroup(ctx, wecomsim.CreateGroupRequest{Owner: "zhangsan"})
	if err != nil || g.ChatID == "" {
		t.Fatalf("%+v %v", g, err)
	}
	if err := c.WaitCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != "/wecom/callback/wwcmdtest" {
		t.Fatalf("callbacks %v", got)
	}
	mu.Unlock()

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not stop")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-nope"}, &out, &errOut, nil); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if code := run(context.Background(), []string{"-aes-key", "short"}, &out, &errOut, nil); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(errOut.String(), "EncodingAESKey") {
		t.Fatalf("stderr: %s", errOut.String())
	}
	if code := run(context.Background(), []string{"-log-level", "loud"}, &out, &errOut, nil); code != 2 {
		t.Fatalf("exit %d", code)
	}
}
