package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
)

// demoKeyFile holds the demo's generated data key, beside its database so a
// restarted demo still reads what it sealed.
const demoKeyFile = "demo-data-key.txt"

// dataKeyring builds the keyring personal data is sealed with: the
// configured keys; in demo mode without any, the demo's own key (made on
// first start).
func dataKeyring(cfg config.Config) (*model.Keyring, error) {
	keys, err := cfg.Security.Keys()
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		if !cfg.Demo() {
			return nil, config.ErrNoDataKey
		}
		k, err := demoDataKey(cfg)
		if err != nil {
			return nil, err
		}
		keys = []config.DataKey{k}
	}
	mk := make([]model.DataKey, len(keys))
	for i, k := range keys {
		mk[i] = model.DataKey{ID: k.ID, Secret: k.Secret}
	}
	return model.NewKeyring(mk...)
}

// demoDataKey reads the demo's key beside its SQLite file, or makes it.
func demoDataKey(cfg config.Config) (config.DataKey, error) {
	parse := func(s string) (config.DataKey, error) {
		keys, err := config.Security{DataKeys: []string{s}}.Keys()
		if err != nil {
			return config.DataKey{}, err
		}
		return keys[0], nil
	}
	if cfg.DB.Driver == "sqlite" && cfg.DB.DSN == ":memory:" {
		k, err := model.GenerateDataKey("demo")
		if err != nil {
			return config.DataKey{}, err
		}
		return parse(k)
	}
	path := demoKeyFile
	if cfg.DB.Driver == "sqlite" {
		path = filepath.Join(filepath.Dir(cfg.DB.DSN), demoKeyFile)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		k, err := parse(strings.TrimSpace(string(b)))
		if err != nil {
			return k, fmt.Errorf("demo data key %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return config.DataKey{}, fmt.Errorf("demo data key: %w", err)
	}
	k, err := model.GenerateDataKey("demo")
	if err != nil {
		return config.DataKey{}, err
	}
	// O_EXCL: two demo processes starting on one file agree on one key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return demoDataKey(cfg)
	}
	if err != nil {
		return config.DataKey{}, fmt.Errorf("demo data key: %w", err)
	}
	if _, err := f.WriteString(k + "\n"); err != nil {
		f.Close()
		return config.DataKey{}, fmt.Errorf("demo data key: %w", err)
	}
	if err := f.Close(); err != nil {
		return config.DataKey{}, fmt.Errorf("demo data key: %w", err)
	}
	return parse(k)
}

// rekey re-seals under the active key, in the background, what is still
// under another key, while a rotation is under way (more than one key is
// configured; with one, the migration sealed everything under it). One
// replica at a time does it (a lease); `gateway keys rotate` does the same
// and either may run beside the other.
func (g *gateway) rekey(ctx context.Context) {
	kr := g.store.Keyring()
	if len(kr.IDs()) < 2 {
		return
	}
	holder := fmt.Sprintf("%s:%d", hostname(), os.Getpid())
	if ok, err := g.store.AcquireLease(ctx, "keys:rekey", holder, time.Hour); err != nil || !ok {
		return
	}
	batches := 0
	n, err := g.store.Rekey(ctx, 500, func(p model.RekeyProgress) {
		if batches++; batches%20 == 0 {
			g.log.Info("data keys: re-sealing under the active key", "table", p.Table, "rows_read", p.Scanned, "resealed", p.Resealed, "key", kr.Active())
		}
	})
	if err != nil {
		if ctx.Err() == nil {
			g.log.Error("data keys: background re-seal stopped; `gateway keys rotate` resumes it", "err", err)
		}
		return
	}
	g.log.Info("data keys: everything is sealed under the active key", "resealed", n, "key", kr.Active())
}

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("keys: expected generate, status or rotate\n%s", usage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch sub {
	case "generate":
		id := fs.String("id", "", "the new key's id (letters, digits, '-', '.'; e.g. the date: 2026-12)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *id == "" {
			*id = clock.Real{}.Now().UTC().Format("2006-01-02")
		}
		k, err := model.GenerateDataKey(*id)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, k)
		return nil
	case "status", "rotate":
	default:
		return fmt.Errorf("keys: unknown %q: expected generate, status or rotate\n%s", sub, usage)
	}
	batch := fs.Int("batch", 500, "rows re-sealed per statement batch (rotate)")
	cfg, err := loadConfig(fs, args, getenv)
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
	active := st.Keyring().Active()
	if sub == "rotate" {
		n, err := st.Rekey(ctx, *batch, func(p model.RekeyProgress) {
			fmt.Fprintf(stderr, "keys rotate: %s: %d rows read, %d re-sealed under %q\n", p.Table, p.Scanned, p.Resealed, active)
		})
		if err != nil {
			return fmt.Errorf("keys rotate (run it again to resume; rows done are skipped): %w", err)
		}
		fmt.Fprintf(stdout, "re-sealed %d rows under key %q\n", n, active)
	}
	return printKeyStatus(ctx, st, stdout)
}

// printKeyStatus prints, per sealed column, the values under each key and
// what remains to re-seal under the active one.
func printKeyStatus(ctx context.Context, st *model.Store, w io.Writer) error {
	counts, err := st.KeyStatus(ctx)
	if err != nil {
		return err
	}
	kr := st.Keyring()
	active := kr.Active()
	fmt.Fprintf(w, "active key: %s\n", active)
	var remaining int64
	for _, c := range counts {
		var parts []string
		for _, id := range kr.IDs() {
			parts = append(parts, fmt.Sprintf("%s=%d", id, c.ByKey[id]))
		}
		if c.Plain > 0 {
			parts = append(parts, fmt.Sprintf("plain=%d", c.Plain))
		}
		if c.Unknown > 0 {
			parts = append(parts, fmt.Sprintf("unknown-key=%d", c.Unknown))
		}
		fmt.Fprintf(w, "%s.%s: %d values (%s), %d to re-seal\n", c.Table, c.Column, c.Values, strings.Join(parts, " "), c.Remaining(active))
		remaining += c.Remaining(active)
	}
	fmt.Fprintf(w, "remaining under other keys or plain: %d\n", remaining)
	return nil
}
