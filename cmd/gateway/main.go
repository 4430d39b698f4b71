package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/auth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

const usage = `usage:
  gateway [serve] [-config FILE]
  gateway migrate [-config FILE]
  gateway webhook-test --url URL [--secret whsec_...] [-config FILE]
  gateway token create --role admin|staff|viewer|crm --name NAME [--userid WECOM_USERID] [-config FILE]
  gateway keys generate [--id ID]
  gateway keys status [-config FILE]
  gateway keys rotate [--batch N] [-config FILE]
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		cmd = "help" // the commands, not only serve's flags
	} else if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stdout, stderr, getenv)
	case "migrate":
		err = cmdMigrate(ctx, args, stdout, stderr, getenv)
	case "token":
		err = cmdToken(ctx, args, stdout, stderr, getenv)
	case "keys":
		err = cmdKeys(ctx, args, stdout, stderr, getenv)
	case "webhook-test":
		err = cmdWebhookTest(ctx, args, stdout, stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 1
	}
	return 0
}

// loadConfig parses -config from args and loads and validates the config.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (config.Config, error) {
	path := fs.String("config", "", "YAML config file (default: "+config.DefaultFile+" if present)")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func openStore(ctx context.Context, cfg config.Config, clk clock.Clock, log *slog.Logger) (*model.Store, error) {
	keys, err := dataKeyring(cfg)
	if err != nil {
		return nil, err
	}
	st, err := model.Open(cfg.DB.Driver, cfg.DB.DSN, model.Options{
		MaxOpenConns: cfg.DB.MaxOpenConns, ConnMaxLifetime: cfg.DB.ConnMaxLifetime, Clock: clk, Logger: log, Keys: keys,
	})
	if err != nil {
		return nil, err
	}
	if err := st.Ping(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	return st, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, clock.Real{}, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d (applied %v)\n", model.SchemaVersion(), applied)
	return nil
}

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("token: expected 'create'\n%s", usage)
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "", "admin, staff, viewer or crm")
	name := fs.String("name", "", "who or what the token is for")
	userID := fs.String("userid", "", "the WeCom userid a staff token acts for (sales see only their own leads)")
	cfg, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, clock.Real{}, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	secret, tok, err := auth.New(st, clock.Real{}).CreateTokenFor(ctx, *name, *role, *userID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created token %d (%s, role %s); it is shown once:\n", tok.ID, tok.Name, tok.Role)
	fmt.Fprintln(stdout, secret)
	return nil
}
