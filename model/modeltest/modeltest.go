package modeltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
)

// KeySpec is the test data key as configured (GATEWAY_DATA_KEY).
const KeySpec = "test:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// Keys is the data keyring of test stores: KeySpec's key.
var Keys = func() *model.Keyring {
	kr, err := model.NewKeyring(model.DataKey{ID: "test", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		panic(err)
	}
	return kr
}()

// Drivers are the dialects every storage test runs on.
var Drivers = []string{"sqlite", "mysql"}

// Each runs fn once per dialect, each on a fresh, migrated database.
func Each(t *testing.T, fn func(t *testing.T, st *model.Store)) {
	t.Helper()
	for _, d := range Drivers {
		t.Run(d, func(t *testing.T) {
			fn(t, Open(t, d, nil))
		})
	}
}

// Open returns a fresh, migrated store on driver, on clk (the wall clock
// when nil).
func Open(t testing.TB, driver string, clk clock.Clock) *model.Store {
	t.Helper()
	if clk == nil {
		clk = clock.Real{}
	}
	dsn := DSN(t, driver)
	st, err := model.Open(driver, dsn, model.Options{Clock: clk, MaxOpenConns: 20, Keys: Keys})
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", driver, err)
	}
	return st
}

// Replicas returns n stores on one fresh, migrated database on driver, as n
// gateway replicas hold them, each with its own connections and caches.
func Replicas(t testing.TB, driver string, n int) []*model.Store {
	t.Helper()
	dsn := DSN(t, driver)
	out := make([]*model.Store, n)
	for i := range out {
		st, err := model.Open(driver, dsn, model.Options{Clock: clock.Real{}, MaxOpenConns: 4, Keys: Keys})
		if err != nil {
			t.Fatalf("open %s: %v", driver, err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate %s: %v", driver, err)
		}
		out[i] = st
	}
	return out
}

// DSN returns a DSN for a fresh, empty database on driver, removed when the
// test ends.
func DSN(t testing.TB, driver string) string {
	t.Helper()
	switch driver {
	case "sqlite":
		return t.TempDir() + "/test.db"
	case "mysql":
		return freshMySQL(t)
	}
	t.Fatalf("unknown driver %q", driver)
	return ""
}

// MySQLRequired reports whether a missing MariaDB must fail the test run.
func MySQLRequired() bool { return os.Getenv("GATEWAY_TEST_MYSQL_REQUIRED") == "1" }

func freshMySQL(t testing.TB) string {
	base := os.Getenv("GATEWAY_TEST_MYSQL_DSN")
	if base == "" {
		base = "root@tcp(127.0.0.1:3306)/"
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatalf("GATEWAY_TEST_MYSQL_DSN: %v", err)
	}
	cfg.DBName = ""
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatalf("mysql: %v", err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		if MySQLRequired() {
			t.Fatalf("MariaDB is required (GATEWAY_TEST_MYSQL_REQUIRED=1) but unreachable: %v", err)
		}
		t.Skipf("MariaDB unreachable, skipping the MySQL half (set GATEWAY_TEST_MYSQL_REQUIRED=1 to fail instead): %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gwtest_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec("DROP DATABASE IF EXISTS " + name)
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

// Clock is a settable clock for tests (clock.Fake: it stands still until
// moved or started).
type Clock = clock.Fake

// NewClock returns a stopped clock reading t.
func NewClock(t time.Time) *Clock { return clock.NewFake(t) }
