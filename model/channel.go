package model

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrConflict is returned when a unique value (a state, a slug) is taken.
var ErrConflict = errors.New("conflict")

// ChannelCode is a channel live code: one WeCom contact way with a duty
// roster. JSON-shaped settings are stored as text and owned by service.
type ChannelCode struct {
	ID             uint64
	CorpID         string
	Name           string
	Folder         string
	State          string
	Slug           string
	ConfigID       string
	QRCode         string
	SkipVerify     bool
	RemarkTemplate string
	Description    string
	Tags           string
	Welcome        string
	Roster         string
	Mode           string
	Strategy       string
	WeComUsers     string `gorm:"column:wecom_users"`
	MemberWays     string
	LastPick       string
	Alert          string
	UTM            string `gorm:"column:utm"`
	SyncedAt       *time.Time
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      *time.Time
}

func (ChannelCode) TableName() string { return "channel_codes" }

// CreateChannelCode inserts a code; a taken state or slug is ErrConflict.
func (s *Store) CreateChannelCode(ctx context.Context, c *ChannelCode) error {
	now := s.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Create(c).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: unable to create channel code: %w", err)
	}
	return nil
}

// SaveChannelCode writes every column of a code.
func (s *Store) SaveChannelCode(ctx context.Context, c *ChannelCode) error {
	c.UpdatedAt = s.Now()
	if err := s.db.WithContext(ctx).Save(c).Error; err != nil {
		return fmt.Errorf("store: unable to save channel code %d: %w", c.ID, err)
	}
	return nil
}

// UpdateChannelCodeSync records what the contact way now holds.
func (s *Store) UpdateChannelCodeSync(ctx context.Context, id uint64, wecomUsers, alert string) error {
	now := s.Now()
	err := s.db.WithContext(ctx).Model(&ChannelCode{}).Where("id = ?", id).
		Updates(map[string]any{"wecom_users": wecomUsers, "alert": truncate(alert, 512), "synced_at": now}).Error
	if err != nil {
		return fmt.Errorf("store: unable to record sync of channel code %d: %w", id, err)
	}
	return nil
}

// SetChannelCodeAlert records (or clears) the problem an admin should see.
func (s *Store) SetChannelCodeAlert(ctx context.Context, id uint64, alert string) error {
	return s.db.WithContext(ctx).Model(&ChannelCode{}).Where("id = ?", id).Update("alert", truncate(alert, 512)).Error
}

// DeleteChannelCode marks a code deleted; its stats and contacts stay.
func (s *Store) DeleteChannelCode(ctx context.Context, id uint64) error {
	now := s.Now()
	return s.db.WithContext(ctx).Model(&ChannelCode{}).Where("id = ? AND deleted_at IS NULL", id).
		Updates(map[string]any{"deleted_at": now, "updated_at": now}).Error
}

// GetChannelCode returns a live code of corp.
func (s *Store) GetChannelCode(ctx context.Context, corpID string, id uint64) (*ChannelCode, error) {
	var c ChannelCode
	err := s.db.WithContext(ctx).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).First(&c).Error
	return &c, notFound(err, "channel code")
}

// LiveChannelCodeIDs returns those of ids that are live channel codes of
// corp.
func (s *Store) LiveChannelCodeIDs(ctx context.Context, corpID string, ids []uint64) ([]uint64, error) {
	var out []uint64
	if len(ids) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Model(&ChannelCode{}).Where("corp_id = ? AND id IN ? AND deleted_at IS NULL", corpID, ids).
		Pluck("id", &out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to look up channel codes: %w", err)
	}
	return out, nil
}

// ChannelCodeBySlug returns a live code by its landing slug.
func (s *Store) ChannelCodeBySlug(ctx context.Context, slug string) (*ChannelCode, error) {
	var c ChannelCode
	err := s.db.WithContext(ctx).Where("slug = ? AND deleted_at IS NULL", slug).First(&c).Error
	return &c, notFound(err, "channel code")
}

// ChannelCodeFilter selects codes for the admin API.
type ChannelCodeFilter struct {
	CorpID  string
	Folder  string
	Q       string
	AfterID uint64
	Limit   int
}

// ListChannelCodes returns live codes by id.
func (s *Store) ListChannelCodes(ctx context.Context, f ChannelCodeFilter) ([]ChannelCode, error) {
	q := s.db.WithContext(ctx).Where("deleted_at IS NULL")
	if f.CorpID != "" {
		q = q.Where("corp_id = ?", f.CorpID)
	}
	if f.Folder != "" {
		q = q.Where("folder = ?", f.Folder)
	}
	if f.Q != "" {
		q = q.Where("name LIKE ?", "%"+escapeLike(f.Q)+"%")
	}
	if f.AfterID > 0 {
		q = q.Where("id > ?", f.AfterID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []ChannelCode
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list channel codes: %w", err)
	}
	return out, nil
}

// ActiveChannelCodes returns every live code (caches and the roster tick).
func (s *Store) ActiveChannelCodes(ctx context.Context) ([]ChannelCode, error) {
	return s.ListChannelCodes(ctx, ChannelCodeFilter{})
}

// LiveChannelCodeByState returns corp's live code with this State.
func (s *Store) LiveChannelCodeByState(ctx context.Context, corpID, state string) (*ChannelCode, error) {
	var c ChannelCode
	err := s.db.WithContext(ctx).Where("corp_id = ? AND state = ? AND deleted_at IS NULL", corpID, state).First(&c).Error
	return &c, notFound(err, "channel code")
}

// ChannelCodesVersion is a cheap fingerprint of every channel code and
// welcome image: it changes whenever a code is created, edited or deleted
// or an image gets a new media_id, so a replica can poll it each second and
// reload its cache only when it moved.
func (s *Store) ChannelCodesVersion(ctx context.Context) (string, error) {
	var v struct {
		Codes, Media        int64
		LastCode, LastMedia *string
	}
	err := s.db.WithContext(ctx).Raw(`SELECT
  (SELECT COUNT(*) FROM channel_codes) AS codes,
  (SELECT CAST(MAX(updated_at) AS CHAR) FROM channel_codes) AS last_code,
  (SELECT COUNT(*) FROM media_assets) AS media,
  (SELECT CAST(MAX(uploaded_at) AS CHAR) FROM media_assets) AS last_media`).Scan(&v).Error
	if err != nil {
		return "", fmt.Errorf("store: unable to read the channel codes' version: %w", err)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return fmt.Sprintf("%d/%s/%d/%s", v.Codes, str(v.LastCode), v.Media, str(v.LastMedia)), nil
}

// ChannelCodesChangedSince returns codes (deleted ones too) updated after t.
func (s *Store) ChannelCodesChangedSince(ctx context.Context, t time.Time) ([]ChannelCode, error) {
	var out []ChannelCode
	if err := s.db.WithContext(ctx).Where("updated_at >= ?", t).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read changed channel codes: %w", err)
	}
	return out, nil
}

// DayCounts returns a code's adds per staff member on a local day.
func (s *Store) DayCounts(ctx context.Context, codeID uint64, day string) (map[string]int, error) {
	var rows []staffDayCount
	if err := s.db.WithContext(ctx).Where("code_id = ? AND day = ?", codeID, day).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read day counts: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.UserID] = r.Count
	}
	return out, nil
}

type staffDayCount struct {
	CodeID uint64 `gorm:"primaryKey"`
	Day    string `gorm:"primaryKey"`
	UserID string `gorm:"primaryKey"`
	CorpID string
	Count  int
}

func (staffDayCount) TableName() string { return "staff_day_counts" }

// CodeDailyStat is one row of a code's daily statistics.
type CodeDailyStat struct {
	CodeID uint64 `gorm:"primaryKey"`
	Day    string `gorm:"primaryKey"`
	UserID string `gorm:"primaryKey"`
	CorpID string
	Adds   int
	Losses int
}

func (CodeDailyStat) TableName() string { return "code_daily_stats" }

// CodeStats returns a code's daily rows between two days (inclusive).
func (s *Store) CodeStats(ctx context.Context, codeID uint64, from, to string) ([]CodeDailyStat, error) {
	var out []CodeDailyStat
	err := s.db.WithContext(ctx).Where("code_id = ? AND day >= ? AND day <= ?", codeID, from, to).
		Order("day, user_id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read code stats: %w", err)
	}
	return out, nil
}

// bump adds delta to a counter row keyed by its primary key, creating it.
func (s *Store) bump(tx *gorm.DB, row any, keys []string, column string, delta int) error {
	cols := make([]clause.Column, len(keys))
	for i, k := range keys {
		cols[i] = clause.Column{Name: k}
	}
	return tx.Clauses(clause.OnConflict{
		Columns:   cols,
		DoUpdates: clause.Assignments(map[string]any{column: gorm.Expr(column+" + ?", delta)}),
	}).Create(row).Error
}

// countAdd raises a staff member's count of adds through a code on a day
// by one and returns the new count, in one statement: SQLite returns it
// (RETURNING); MySQL hands it back as the statement's insert id
// (LAST_INSERT_ID(expr)) when the row existed, and a new row holds 1.
func (s *Store) countAdd(tx *gorm.DB, corpID string, codeID uint64, day, userID string) (int, error) {
	if s.dialect == "mysql" {
		res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context,
			"INSERT INTO staff_day_counts (code_id, day, user_id, corp_id, `count`) VALUES (?, ?, ?, ?, 1) "+
				"ON DUPLICATE KEY UPDATE `count` = LAST_INSERT_ID(`count` + 1)", codeID, day, userID, corpID)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return 1, err // inserted
		}
		id, err := res.LastInsertId()
		return int(id), err
	}
	var count int
	err := tx.Raw("INSERT INTO staff_day_counts (code_id, day, user_id, corp_id, `count`) VALUES (?, ?, ?, ?, 1) "+
		"ON CONFLICT (code_id, day, user_id) DO UPDATE SET `count` = `count` + 1 RETURNING `count`", codeID, day, userID, corpID).
		Scan(&count).Error
	return count, err
}

// PickHold is a precise-mode landing-page pick. While live (not consumed,
// not expired) it counts toward the staff member's cap; the customer's add
// consumes it (and counts as an add), and one never followed by an add
// stops counting when it expires.
type PickHold struct {
	ID         uint64
	CodeID     uint64
	Day        string
	UserID     string
	ExpiresAt  time.Time
	ConsumedAt *time.Time
	// Released is set when the hold stops counting (consumed by its add, or
	// swept once expired); until then it is one of its tally's live holds.
	Released  bool
	CreatedAt time.Time
}

func (PickHold) TableName() string { return "pick_holds" }

// pickTally is the number of a staff member's holds of a code and day that
// still count (not released): raised by a pick, lowered by its add or by
// the sweep of an expired hold, so a pick reads one row a member instead of
// counting every live hold.
type pickTally struct {
	CodeID uint64 `gorm:"primaryKey"`
	Day    string `gorm:"primaryKey"`
	UserID string `gorm:"primaryKey"`
	Live   int
}

func (pickTally) TableName() string { return "pick_tallies" }

// sweepBatch bounds how many expired holds one sweep releases.
const sweepBatch = 1000

// sweepHolds releases up to sweepBatch holds (of codeID, or of every code
// when it is 0) that expired by at and still counted, lowering their
// tallies, and returns how many it released. The rows are locked as they
// are read (MySQL), so an add consuming one of them at the same moment
// either wins before (the sweep no longer sees it) or waits and finds it
// released: a hold leaves its tally once.
func (s *Store) sweepHolds(tx *gorm.DB, codeID uint64, at time.Time) (int, error) {
	q := tx.Model(&PickHold{}).Select("id, code_id, day, user_id").Where("released = ? AND expires_at <= ?", false, at.UTC())
	if codeID != 0 {
		q = q.Where("code_id = ?", codeID)
	}
	if s.dialect == "mysql" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var expired []PickHold
	// No ORDER BY: MariaDB would walk the primary key for it, reading every
	// live hold, instead of the range of expired ones in the sweep index.
	if err := q.Limit(sweepBatch).Find(&expired).Error; err != nil || len(expired) == 0 {
		return 0, err
	}
	ids := make([]uint64, len(expired))
	type key struct {
		code      uint64
		day, user string
	}
	gone := map[key]int{}
	for i, h := range expired {
		ids[i] = h.ID
		gone[key{h.CodeID, h.Day, h.UserID}]++
	}
	if err := tx.Model(&PickHold{}).Where("id IN ?", ids).Update("released", true).Error; err != nil {
		return 0, err
	}
	for k, n := range gone {
		if err := tx.Model(&pickTally{}).Where("code_id = ? AND day = ? AND user_id = ?", k.code, k.day, k.user).
			Update("live", gorm.Expr("live - ?", n)).Error; err != nil {
			return 0, err
		}
	}
	return len(expired), nil
}

// LockChannelCode runs fn while holding the code's row lock (MySQL) or the
// single writer (SQLite), so precise-mode picks across replicas are
// serialized. counts gives each staff member's adds on a day plus their
// holds still live at `at`; hold records a pick held until `until` (and the
// code's last pick), written in the same transaction once fn returns nil
// (so counts does not see the holds fn made: fn counts them itself).
func (s *Store) LockChannelCode(ctx context.Context, codeID uint64, fn func(c *ChannelCode, counts func(day string, at time.Time) (map[string]int, error), hold func(day, userID string, until time.Time) error) error) error {
	now := s.Now()
	return retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var c ChannelCode
			q := tx.Where("id = ? AND deleted_at IS NULL", codeID)
			if s.dialect == "mysql" {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			if err := q.First(&c).Error; err != nil {
				return notFound(err, "channel code")
			}
			counts := func(day string, at time.Time) (map[string]int, error) {
				// The holds that ran out by at stop counting; the tallies
				// then hold exactly the live ones.
				for {
					n, err := s.sweepHolds(tx, codeID, at)
					if err != nil {
						return nil, err
					}
					if n < sweepBatch {
						break
					}
				}
				// Adds and live holds in one statement, so one snapshot:
				// an add that consumes a hold meanwhile (it moves one from
				// the tally to the adds, outside this lock) is seen whole
				// or not at all, never as neither.
				var rows []struct {
					UserID string
					N      int
				}
				if err := tx.Raw("SELECT user_id, `count` AS n FROM staff_day_counts WHERE code_id = ? AND day = ? "+
					"UNION ALL SELECT user_id, live AS n FROM pick_tallies WHERE code_id = ? AND day = ? AND live > 0",
					codeID, day, codeID, day).Scan(&rows).Error; err != nil {
					return nil, err
				}
				out := make(map[string]int, len(rows))
				for _, r := range rows {
					out[r.UserID] += r.N
				}
				return out, nil
			}
			// The picks are written when fn is done, together: one insert
			// of the holds, one raise of each member's tally, one update
			// of the last pick.
			var holds []PickHold
			hold := func(day, userID string, until time.Time) error {
				holds = append(holds, PickHold{CodeID: codeID, Day: day, UserID: userID, ExpiresAt: until.UTC(), CreatedAt: now})
				return nil
			}
			if err := fn(&c, counts, hold); err != nil || len(holds) == 0 {
				return err
			}
			if err := tx.CreateInBatches(holds, 100).Error; err != nil {
				return err
			}
			type member struct{ day, user string }
			raise := map[member]int{}
			for _, h := range holds {
				raise[member{h.Day, h.UserID}]++
			}
			for m, n := range raise {
				if err := s.bump(tx, &pickTally{CodeID: codeID, Day: m.day, UserID: m.user, Live: n}, []string{"code_id", "day", "user_id"}, "live", n); err != nil {
					return err
				}
			}
			return tx.Model(&ChannelCode{}).Where("id = ?", codeID).Update("last_pick", holds[len(holds)-1].UserID).Error
		})
	})
}

// consumeHold turns the staff member's oldest pick of the code and day that
// was still live at the add (`at`) into the add. A pick that had run out
// stopped counting already, so an add after it consumes nothing. A hold
// that ran out and was swept already left its tally then, so consuming it
// changes no count.
//
// Adds for the same member at the same moment each take a hold of their
// own: one that finds the oldest hold taken by another (MySQL: its update
// waits for the other's commit and then matches nothing) tries the next.
func consumeHold(tx *gorm.DB, codeID uint64, day, userID string, at, now time.Time) error {
	for {
		var id uint64
		if err := tx.Model(&PickHold{}).Select("id").
			Where("code_id = ? AND day = ? AND user_id = ? AND consumed_at IS NULL AND expires_at > ?", codeID, day, userID, at.UTC()).
			Order("id").Limit(1).Scan(&id).Error; err != nil || id == 0 {
			return err
		}
		res := tx.Model(&PickHold{}).Where("id = ? AND consumed_at IS NULL AND released = ?", id, false).
			Updates(map[string]any{"consumed_at": now, "released": true})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			return tx.Model(&pickTally{}).Where("code_id = ? AND day = ? AND user_id = ?", codeID, day, userID).
				Update("live", gorm.Expr("live - 1")).Error
		}
		res = tx.Model(&PickHold{}).Where("id = ? AND consumed_at IS NULL", id).Update("consumed_at", now)
		if res.Error != nil || res.RowsAffected == 1 {
			return res.Error
		}
	}
}

// PrunePickHolds deletes the holds that no longer count: consumed by their
// add (which counts in staff_day_counts instead) or expired by before (an
// expired hold counts for nobody, and an add that arrives later consumes
// nothing but a hold still live at the add), and the tallies left at zero. At most limit rows go per
// statement, so a first prune of a long history holds no huge transaction.
// It returns how many rows went.
func (s *Store) PrunePickHolds(ctx context.Context, before time.Time, limit int) (int64, error) {
	// Expired holds of codes nobody picks from any more are released here,
	// their tallies lowered, before they go.
	for {
		var n int
		err := retryable(func() error {
			return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				var err error
				n, err = s.sweepHolds(tx, 0, before)
				return err
			})
		})
		if err != nil {
			return 0, fmt.Errorf("store: unable to release expired pick holds: %w", err)
		}
		if n < sweepBatch {
			break
		}
	}
	var total int64
	for {
		n, err := s.deleteFirst(ctx, &PickHold{}, limit, "released = ?", true)
		if err != nil {
			return total, fmt.Errorf("store: unable to prune pick holds: %w", err)
		}
		total += n
		if n < int64(limit) {
			break
		}
	}
	// A tally at zero counts nothing; a pick makes it again.
	if err := s.db.WithContext(ctx).Where("live <= 0").Delete(&pickTally{}).Error; err != nil {
		return total, fmt.Errorf("store: unable to prune pick tallies: %w", err)
	}
	return total, nil
}

func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: unable to read %s: %w", what, err)
	}
	return nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
