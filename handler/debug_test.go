package handler_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/handler"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/auth"
)

func TestProfilesAreServedToAdminsOnly(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	admin, _, _ := e.auth.CreateToken(ctx, "ops", auth.RoleAdmin)
	viewer, _, _ := e.auth.CreateToken(ctx, "watch", auth.RoleViewer)
	get := func(path, tok string) (int, string) {
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/v1/debug/pprof/", admin); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("index: %d %.200s", code, body)
	}
	if code, body := get("/api/v1/debug/pprof/goroutine?debug=1", admin); code != 200 || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("goroutine: %d %.200s", code, body)
	}
	if code, body := get("/api/v1/debug/pprof/heap", admin); code != 200 || len(body) == 0 {
		t.Fatalf("heap: %d", code)
	}
	if code, body := get("/api/v1/debug/pprof/cmdline", admin); code != 200 || body == "" {
		t.Fatalf("cmdline: %d", code)
	}
	if code, _ := get("/api/v1/debug/pprof/goroutine?debug=1", viewer); code != 403 {
		t.Fatalf("viewer: %d", code)
	}
	if code, _ := get("/api/v1/debug/pprof/goroutine?debug=1", ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
}

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

func TestAccessLogOfSuccessesIsDebugOnly(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var buf syncBuffer
		st := modeltest.Open(t, "sqlite", nil)
		r := handler.New(handler.Deps{Clock: clock.Real{}, Auth: auth.New(st, clock.Real{}), Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))})
		srv := httptest.NewServer(r)
		for _, path := range []string{"/healthz", "/api/v1/me"} {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		srv.Close()
		logged := buf.String()
		ok := strings.Contains(logged, "path=/healthz status=200")
		denied := strings.Contains(logged, "path=/api/v1/me status=401")
		if ok != (level == slog.LevelDebug) || !denied {
			t.Fatalf("at %v: 200 logged %v, 401 logged %v:\n%s", level, ok, denied, logged)
		}
	}
}
