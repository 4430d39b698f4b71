package lead

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

// BenchmarkRescoreLeads changes the scoring config over a corp holding
// leadCount leads and times the background re-score, while a client keeps
// using the leads API (a list page, then a BANT change, in turn) and
// records how long each call takes. Run once per store:
//
//	go test -run '^$' -bench RescoreLeads -benchtime 1x -timeout 30m ./service
func BenchmarkRescoreLeads(b *testing.B) {
	const leadCount = 100_000
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, driver := range modeltest.Drivers {
		b.Run(driver, func(b *testing.B) {
			dsn := modeltest.DSN(b, driver)
			st, err := model.Open(driver, dsn, model.Options{Keys: modeltest.Keys, MaxOpenConns: 20, Clock: clock.Real{}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			ctx := context.Background()
			if _, err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			wakes := queue.NewWakes()
			leads := New(st, wakes.Jobs, noCodes{}, clock.Real{}, log)
			jobs := queue.NewJobRunner(st, map[string]queue.JobHandler{JobLeadActivity: leads.RunActivity, JobRescore: leads.RunRescore},
				wakes, nil, clock.Real{}, queue.PoolOptions{Logger: log})
			side := seedLeads(b, driver, dsn, st, leads, leadCount)
			admin := &auth.Principal{Role: auth.RoleAdmin, Name: "bench"}

			rctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); jobs.Run(rctx) }()
			defer func() { cancel(); wg.Wait() }()

			// api calls the API once and returns how long it took.
			var turn int
			api := func() time.Duration {
				start := time.Now()
				turn++
				if turn%2 == 0 {
					if _, err := leads.List(ctx, admin, LeadQuery{CorpID: "ww", Limit: 50}); err != nil {
						b.Fatal(err)
					}
				} else {
					v := []string{"yes", "no"}[turn/2%2]
					id := uint64(1 + turn*7919%leadCount)
					if _, err := leads.Patch(ctx, "ww", id, LeadPatch{BANT: map[string]webhook.BANTAnswer{"need": {Value: v}}}, "bench"); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			var idle []time.Duration
			for range 200 {
				idle = append(idle, api())
			}

			for i := 0; i < b.N; i++ {
				cfg := DefaultScoring()
				cfg.MQL += i + 1 // a new config each time
				start := time.Now()
				version, err := leads.SetScoring(ctx, "ww", cfg)
				if err != nil {
					b.Fatal(err)
				}
				setTook := time.Since(start)
				var during []time.Duration
				for n := 1; ; n++ {
					during = append(during, api())
					time.Sleep(20 * time.Millisecond)
					if n%25 != 0 {
						continue
					}
					// Twice a second: is it done? (A full count of its own.)
					var left int64
					if err := side.Table("leads").Where("scoring_version < ?", version).Count(&left).Error; err != nil {
						b.Fatal(err)
					}
					if left == 0 {
						break
					}
				}
				took := time.Since(start)
				b.ReportMetric(float64(leadCount)/took.Seconds(), "leads/s")
				b.ReportMetric(took.Seconds(), "s/rescore")
				b.ReportMetric(float64(setTook.Microseconds())/1000, "ms/set-scoring")
				b.ReportMetric(ms(quantile(idle, .5)), "ms/idle-api-p50")
				b.ReportMetric(ms(quantile(idle, .99)), "ms/idle-api-p99")
				b.ReportMetric(ms(quantile(during, .5)), "ms/api-p50")
				b.ReportMetric(ms(quantile(during, .99)), "ms/api-p99")
				b.ReportMetric(ms(slices.Max(during)), "ms/api-max")
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// quantile is the nearest-rank quantile q of ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// seedLeads makes one lead through the real path (an add, its profile and
// its lead activity), then copies its row n-1 times with its own contact
// and external_userid, in batches on a side connection, and returns that
// connection.
func seedLeads(b *testing.B, driver, dsn string, st *model.Store, leads *Leads, n int) *gorm.DB {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww", EventID: 1, UserID: "zhangsan",
		ExternalUserID: "wmSeed", Source: webhook.SourceUnknown, At: now}); err != nil {
		b.Fatal(err)
	}
	if err := st.UpdateContactProfile(ctx, "ww", "wmSeed", model.ContactProfile{Name: "种子", CorpName: "示例科技"}, "", "", "[]"); err != nil {
		b.Fatal(err)
	}
	j := ActivityJob("ww", Activity{Trigger: TriggerContactAdded, Key: "seed", ExternalUserID: "wmSeed", UserID: "zhangsan", At: now})
	if err := leads.RunActivity(ctx, j); err != nil {
		b.Fatal(err)
	}

	var dial gorm.Dialector
	if driver == "sqlite" {
		dial = sqlite.Open("file:" + dsn + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	} else {
		dial = mysql.Open(dsn + "?parseTime=true&loc=UTC")
		if strings.Contains(dsn, "?") {
			dial = mysql.Open(dsn + "&parseTime=true&loc=UTC")
		}
	}
	side, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if db, err := side.DB(); err == nil {
			_ = db.Close()
		}
	})
	var seed map[string]any
	if err := side.Table("leads").Where("external_user_id = ?", "wmSeed").Take(&seed).Error; err != nil {
		b.Fatal(err)
	}
	delete(seed, "id")
	const batch = 1000
	rows := make([]map[string]any, 0, batch)
	for i := 1; i < n; i++ {
		r := make(map[string]any, len(seed))
		for k, v := range seed {
			r[k] = v
		}
		r["contact_id"] = uint64(1_000_000 + i)
		r["external_user_id"] = fmt.Sprintf("wmBench%07d", i)
		rows = append(rows, r)
		if len(rows) == batch || i == n-1 {
			if err := side.Table("leads").Create(&rows).Error; err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	return side
}
