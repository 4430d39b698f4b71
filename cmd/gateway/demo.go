package main

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/service"
)

// demoEnv is the in-process simulator the gateway runs when no corp is configured.
type demoEnv struct{}

func setupDemo(cfg *config.Config, addr string, log *slog.Logger) (*demoEnv, error) {
	return nil, errors.New("no corp configured (set GATEWAY_CORP_ID and friends, or corps: in the config file)")
}

func (d *demoEnv) afterStore(ctx context.Context, auth *service.Auth, cfg config.Config, stdout io.Writer) error {
	return nil
}
func (d *demoEnv) mount(r *gin.Engine) {}
func (d *demoEnv) close()              {}
