package handler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// A visitor who closes the page while the service works is not a failure:
// 499, and no error in the log. The same error while the client still
// waits is one.
func TestClientThatWentAwayIsNotAnError(t *testing.T) {
	gin.SetMode(gin.TestMode)
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("GET", "/c/abc", nil).WithContext(ctx)
	renderError(c, context.Canceled)
	if c.Writer.Status() != statusClientClosed || logs.Len() != 0 {
		t.Fatalf("client gone: status %d, log %q", c.Writer.Status(), logs.String())
	}

	w = httptest.NewRecorder()
	c, _ = gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("GET", "/c/abc", nil)
	renderError(c, errors.Join(errors.New("store"), context.Canceled))
	if c.Writer.Status() != 500 || !bytes.Contains(logs.Bytes(), []byte("request failed")) {
		t.Fatalf("client waiting: status %d, log %q", c.Writer.Status(), logs.String())
	}
}
