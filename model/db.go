package model

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	mysqldrv "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/utils"

	"github.com/leadgate/scrm-gateway/clock"
)

// ErrNotFound is returned by store methods when the row does not exist.
var ErrNotFound = errors.New("not found")

// Options tune Open.
type Options struct {
	MaxOpenConns    int
	ConnMaxLifetime time.Duration
	// Clock is the store's time: row timestamps, leases, due times (required).
	Clock  clock.Clock
	Logger *slog.Logger
	// Keys seal and open personal data at rest (required).
	Keys *Keyring
}

// Store is the gateway's database.
type Store struct {
	db      *gorm.DB
	dialect string
	clock   clock.Clock
	counter *statementCounter
	keys    *Keyring
	// subs holds the webhook endpoints' subscriptions for the outbox.
	subs subscriptions
	// leadRules holds the scoring configs and tag rules for lead activity.
	leadRules pollCache[*LeadRules]
}

// Open connects to sqlite (dsn is a file path, or ":memory:") or mysql (a
// go-sql-driver DSN). It does not migrate; call Migrate.
func Open(driver, dsn string, opts Options) (*Store, error) {
	if opts.Clock == nil {
		return nil, errors.New("model: Open needs a clock")
	}
	if opts.Keys == nil {
		return nil, errors.New("model: Open needs a data keyring (Options.Keys)")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	gcfg := &gorm.Config{
		TranslateError: true,
		// A single insert, update or delete is atomic on its own; GORM's
		// default BEGIN and COMMIT around it cost two round trips each.
		// Work of several statements runs in an explicit transaction.
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return opts.Clock.Now().UTC().Truncate(time.Millisecond) },
		Logger:                 newGormLogger(opts.Logger),
	}
	var (
		dial gorm.Dialector
		err  error
	)
	switch driver {
	case "sqlite":
		dial = sqlite.Open(sqliteDSN(dsn))
	case "mysql":
		conn, err := mysqlConnector(dsn)
		if err != nil {
			return nil, err
		}
		dial = mysql.New(mysql.Config{Conn: sql.OpenDB(conn)})
	default:
		return nil, fmt.Errorf("store: unknown driver %q", driver)
	}
	db, err := gorm.Open(dial, gcfg)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		// One connection: SQLite has a single writer, and a pool would turn
		// lock contention into "database is locked" errors. It also keeps an
		// in-memory database alive for the life of the store.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
	} else {
		if opts.MaxOpenConns > 0 {
			sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
			sqlDB.SetMaxIdleConns(opts.MaxOpenConns)
		}
		// Below MySQL's wait_timeout so the server never closes a pooled connection first.
		lifetime := opts.ConnMaxLifetime
		if lifetime <= 0 {
			lifetime = 3 * time.Minute
		}
		sqlDB.SetConnMaxLifetime(lifetime)
	}
	if err := installKeyring(db, opts.Keys); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	counter := &statementCounter{}
	pool := &countingPool{db: sqlDB, c: counter}
	db.ConnPool = pool
	db.Statement.ConnPool = pool
	return &Store{db: db, dialect: driver, clock: opts.Clock, counter: counter, keys: opts.Keys}, nil
}

func sqliteDSN(dsn string) string {
	if dsn == ":memory:" {
		return "file::memory:?_pragma=foreign_keys(1)"
	}
	if strings.Contains(dsn, "?") {
		return dsn
	}
	// synchronous=FULL: in WAL mode NORMAL may lose the last commits on
	// power loss, and a callback is acknowledged only once it is stored.
	// secure_delete: content a write replaces or deletes (plain values
	// sealed by the migration, erased customers) is zeroed in the file
	// instead of lingering in free pages.
	return "file:" + dsn + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=secure_delete(ON)"
}

// mysqlConnector makes the settings the store relies on explicit: parsed
// times in UTC, utf8mb4 (customer names carry emoji), and READ COMMITTED on
// every connection. Under InnoDB's default REPEATABLE READ the queue's
// locking claim takes next-key locks that stall inserts of new events behind
// it (hundreds of milliseconds under a burst) and deadlock with lease
// recovery; READ COMMITTED locks only the rows a statement touches. The
// SET runs per connection because MySQL 8 and MariaDB spell the DSN
// variable differently.
func mysqlConnector(dsn string) (driver.Connector, error) {
	c, err := mysqldrv.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: mysql dsn: %w", err)
	}
	c.ParseTime = true
	c.Loc = time.UTC
	// Arguments are escaped into the statement by the driver: one round trip
	// per statement instead of a server-side prepare, execute and close.
	// Safe with utf8mb4; the driver refuses a DSN that combines it with a
	// charset where escaping is ambiguous (GBK, Big5, SJIS).
	c.InterpolateParams = true
	// Times go into statements at the columns' precision (DATETIME(3)):
	// MariaDB does not use an index range for a literal with nine
	// fractional digits, so `expires_at <= ?` would read every row of the
	// index prefix instead of the range.
	if err := c.Apply(mysqldrv.TimeTruncate(time.Millisecond)); err != nil {
		return nil, fmt.Errorf("store: mysql dsn: %w", err)
	}
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if _, ok := c.Params["charset"]; !ok {
		c.Params["charset"] = "utf8mb4"
	}
	base, err := mysqldrv.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("store: mysql dsn: %w", err)
	}
	return readCommitted{base}, nil
}

type readCommitted struct{ driver.Connector }

func (rc readCommitted) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := rc.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("store: mysql connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: set isolation level: %w", err)
	}
	return conn, nil
}

// Dialect is "sqlite" or "mysql".
func (s *Store) Dialect() string { return s.dialect }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close releases the connections.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// gormLogger routes GORM's messages into slog; SQL text is only logged at
// debug level and for slow queries, never with bound values.
type gormLogger struct {
	log   *slog.Logger
	level logger.LogLevel
	slow  time.Duration
}

func newGormLogger(l *slog.Logger) logger.Interface {
	return &gormLogger{log: l.With("component", "gorm"), level: logger.Warn, slow: 500 * time.Millisecond}
}

func (g *gormLogger) LogMode(level logger.LogLevel) logger.Interface {
	c := *g
	c.level = level
	return &c
}

func (g *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	if g.level >= logger.Info {
		g.log.InfoContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (g *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	if g.level >= logger.Warn {
		g.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
	}
}

func (g *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	if g.level >= logger.Error {
		g.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
	}
}

// Trace logs failed and slow queries with their call site. The SQL text is
// left out on purpose: GORM renders it with bound values, which include access
// tokens and customer data.
func (g *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := clock.Elapsed(begin) // GORM read begin from the wall clock
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, gorm.ErrDuplicatedKey) && g.level >= logger.Error:
		g.log.ErrorContext(ctx, "query failed", "err", err, "elapsed", elapsed, "at", utils.FileWithLineNum())
	case elapsed > g.slow && g.level >= logger.Warn:
		_, rows := fc()
		g.log.WarnContext(ctx, "slow query", "elapsed", elapsed, "rows", rows, "at", utils.FileWithLineNum())
	}
}
