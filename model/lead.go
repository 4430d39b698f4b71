package model

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Lead is a contact on its way to the CRM. JSON-shaped fields are owned by
// service (source, tags, BANT, behaviour, rule points, score breakdown).
type Lead struct {
	ID             uint64
	CorpID         string
	ContactID      uint64
	ExternalUserID string
	UnionID        string
	Name           string `gorm:"serializer:sealed"`
	CorpName       string `gorm:"serializer:sealed"`
	Mobile         string `gorm:"serializer:sealed"`
	// MobileIndex is the mobile's keyed blind index (exact-match search),
	// kept by keepMobileIndex.
	MobileIndex    string
	MobileValid    bool
	Gender         int
	Source         string
	SourceCodeID   uint64
	Owner          string
	Tags           string
	BANT           string `gorm:"column:bant"`
	Behaviour      string
	RulePoints     string
	Score          int
	Breakdown      string
	ScoringVersion int
	Stage          string
	StageChangedAt time.Time
	MergedInto     uint64
	LastActivityAt time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      *time.Time
}

func (Lead) TableName() string { return "leads" }

// LeadTransition records a stage change with its reason and actor.
type LeadTransition struct {
	ID      uint64
	CorpID  string
	LeadID  uint64
	From    string `gorm:"column:from_stage"`
	To      string `gorm:"column:to_stage"`
	Reason  string
	Actor   string
	ActorID string
	At      time.Time
}

func (LeadTransition) TableName() string { return "lead_transitions" }

type tagRuleRun struct {
	RuleID     uint64 `gorm:"primaryKey"`
	LeadID     uint64 `gorm:"primaryKey"`
	TriggerKey string `gorm:"primaryKey"`
	At         time.Time
}

func (tagRuleRun) TableName() string { return "tag_rule_runs" }

// LeadTx is one transaction on one locked lead.
type LeadTx struct {
	s       *Store
	tx      *gorm.DB
	Lead    *Lead
	Created bool
	// transitions are recorded but not yet written (FlushTransitions).
	transitions []*LeadTransition
}

// Transition records a stage change of the lead (the caller sets Lead.Stage)
// and returns the record, for the lead.stage_changed payload. It is written
// with the transaction's other transitions in one insert, by
// FlushTransitions or when the lead is saved; its ID is set then.
func (lt *LeadTx) Transition(from, to, reason, actor, actorID string, at time.Time) (*LeadTransition, error) {
	tr := &LeadTransition{CorpID: lt.Lead.CorpID, LeadID: lt.Lead.ID, From: from, To: to,
		Reason: truncate(reason, 512), Actor: actor, ActorID: truncate(actorID, 128), At: at.UTC()}
	lt.transitions = append(lt.transitions, tr)
	return tr, nil
}

// FlushTransitions writes the transitions recorded so far, in one insert,
// and sets their IDs.
func (lt *LeadTx) FlushTransitions() error {
	if len(lt.transitions) == 0 {
		return nil
	}
	trs := lt.transitions
	lt.transitions = nil
	return lt.tx.Create(&trs).Error
}

// FirstRun records that a rule ran for this lead and trigger, and reports
// whether this is the first time (rules are idempotent per rule, lead and
// triggering event).
func (lt *LeadTx) FirstRun(ruleID uint64, triggerKey string) (bool, error) {
	res := lt.tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&tagRuleRun{RuleID: ruleID, LeadID: lt.Lead.ID,
		TriggerKey: truncate(triggerKey, 128), At: lt.s.Now()})
	if res.Error != nil && !errors.Is(res.Error, gorm.ErrDuplicatedKey) {
		return false, res.Error
	}
	return res.Error == nil && res.RowsAffected == 1, nil
}

// EnqueueJobs adds side-effect jobs in the same transaction.
func (lt *LeadTx) EnqueueJobs(jobs ...*Job) error { return enqueueJobs(lt.tx, lt.s.Now(), jobs) }

// Contact returns the lead's contact.
func (lt *LeadTx) Contact() (*Contact, error) {
	var c Contact
	err := lt.tx.First(&c, lt.Lead.ContactID).Error
	return &c, notFound(err, "contact")
}

// ActiveRelations returns the lead's live relations (for tagging in WeCom).
func (lt *LeadTx) ActiveRelations() ([]Relation, error) {
	var out []Relation
	err := lt.tx.Where("contact_id = ? AND status = ?", lt.Lead.ContactID, RelationActive).Find(&out).Error
	return out, err
}

// ErrLeadMerged is returned when a lead was merged into another.
var ErrLeadMerged = errors.New("lead was merged into another")

// UpdateLeadOfContact locks (or, with init, creates) the lead of a contact
// and runs fn on it in one transaction; the lead is saved after fn.
func (s *Store) UpdateLeadOfContact(ctx context.Context, corpID string, contactID uint64, init func(c *Contact) *Lead, fn func(lt *LeadTx) error) error {
	return s.updateLead(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("corp_id = ? AND contact_id = ?", corpID, contactID)
	}, func(tx *gorm.DB) (*Lead, error) {
		if init == nil {
			return nil, ErrNotFound
		}
		var c Contact
		if err := tx.Where("id = ? AND corp_id = ?", contactID, corpID).First(&c).Error; err != nil {
			return nil, notFound(err, "contact")
		}
		return init(&c), nil
	}, fn)
}

// UpdateLead locks a lead by id and runs fn on it; the lead is saved after fn.
func (s *Store) UpdateLead(ctx context.Context, corpID string, id uint64, fn func(lt *LeadTx) error) error {
	return s.updateLead(ctx, func(tx *gorm.DB) *gorm.DB {
		return tx.Where("corp_id = ? AND id = ?", corpID, id)
	}, nil, fn)
}

func (s *Store) updateLead(ctx context.Context, where func(*gorm.DB) *gorm.DB, create func(*gorm.DB) (*Lead, error), fn func(lt *LeadTx) error) error {
	return retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.updateLeadTx(tx, where, create, false, fn) })
	})
}

// updateLeadTx locks (or creates) a lead in tx, runs fn on it and saves it.
// With insertFirst (the caller expects no lead yet, as for a new contact)
// it inserts the new lead before reading, and reads only when one exists.
func (s *Store) updateLeadTx(tx *gorm.DB, where func(*gorm.DB) *gorm.DB, create func(*gorm.DB) (*Lead, error), insertFirst bool, fn func(lt *LeadTx) error) error {
	lt := &LeadTx{s: s, tx: tx}
	insert := func() (bool, error) {
		nl, err := create(tx)
		if err != nil {
			return false, err
		}
		now := s.Now()
		nl.CreatedAt, nl.UpdatedAt = now, now
		err = tx.Create(nl).Error
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return false, nil // there is one (or it was created concurrently): lock that one
		}
		if err != nil {
			return false, err
		}
		lt.Lead, lt.Created = nl, true
		return true, nil
	}
	if insertFirst && create != nil {
		if _, err := insert(); err != nil {
			return err
		}
	}
	for attempt := 0; attempt < 2 && lt.Lead == nil; attempt++ {
		var l Lead
		q := where(tx).Where("deleted_at IS NULL")
		if s.dialect == "mysql" {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		err := q.First(&l).Error
		switch {
		case err == nil:
			lt.Lead = &l
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		case create == nil:
			return ErrNotFound
		default:
			if _, err := insert(); err != nil {
				return err
			}
		}
	}
	if lt.Lead == nil {
		return fmt.Errorf("store: lead could not be locked")
	}
	if lt.Lead.MergedInto != 0 {
		return ErrLeadMerged
	}
	if err := fn(lt); err != nil {
		return err
	}
	if err := lt.FlushTransitions(); err != nil {
		return err
	}
	lt.Lead.UpdatedAt = s.Now()
	return tx.Save(lt.Lead).Error
}

// LeadUnchanged reports whether lead b holds what a held, but for its
// scoring version and updated_at.
func LeadUnchanged(a, b *Lead) bool {
	x := *b
	x.ScoringVersion, x.UpdatedAt = a.ScoringVersion, a.UpdatedAt
	return reflect.DeepEqual(*a, x)
}

// UpdateLeadsAfter runs fn on the next n live, unmerged leads of a corp
// after id `after`, in id order, and saves them, in transactions of
// leadsPerTx; it returns the last id it reached (0 when there were none).
// Each transaction locks its leads in one read. A lead fn leaves as it was
// but for its scoring version is not saved on its own: those are set in one
// update per version (updated_at moves as for a saved lead). fn's
// ErrLeadMerged skips that lead; any other error fails the transaction
// (those before it stay done).
func (s *Store) UpdateLeadsAfter(ctx context.Context, corpID string, after uint64, n int, fn func(lt *LeadTx) error) (last uint64, err error) {
	per := s.leadsPerTx()
	for done := 0; done < n; done += per {
		l, err := s.updateLeadsTx(ctx, corpID, after, min(per, n-done), fn)
		if err != nil {
			return last, err
		}
		if l == 0 {
			break
		}
		last, after = l, l
	}
	return last, nil
}

// leadsPerTx is how many leads one transaction of UpdateLeadsAfter takes:
// on SQLite few enough that an API write, which waits for the one writer,
// waits milliseconds; MySQL locks only the rows, so an API call waits only
// when it writes one of them, and fewer commits go faster.
func (s *Store) leadsPerTx() int {
	if s.dialect == "mysql" {
		return 500
	}
	return 100
}

// updateLeadsTx is one transaction of UpdateLeadsAfter.
func (s *Store) updateLeadsTx(ctx context.Context, corpID string, after uint64, n int, fn func(lt *LeadTx) error) (last uint64, err error) {
	err = retryable(func() error {
		last = 0
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var ls []Lead
			q := tx.Where("corp_id = ? AND id > ? AND merged_into = 0 AND deleted_at IS NULL", corpID, after).Order("id").Limit(n)
			if s.dialect == "mysql" {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			if err := q.Find(&ls).Error; err != nil {
				return err
			}
			now := s.Now()
			versionOnly := map[int][]uint64{}
			var versions []int
			for i := range ls {
				last = ls[i].ID
				before := ls[i]
				lt := &LeadTx{s: s, tx: tx, Lead: &ls[i]}
				if err := fn(lt); err != nil {
					if errors.Is(err, ErrLeadMerged) {
						continue
					}
					return err
				}
				if err := lt.FlushTransitions(); err != nil {
					return err
				}
				if LeadUnchanged(&before, lt.Lead) {
					v := lt.Lead.ScoringVersion
					if versionOnly[v] == nil {
						versions = append(versions, v)
					}
					versionOnly[v] = append(versionOnly[v], lt.Lead.ID)
					continue
				}
				lt.Lead.UpdatedAt = now
				if err := tx.Save(lt.Lead).Error; err != nil {
					return err
				}
			}
			for _, v := range versions {
				if err := tx.Model(&Lead{}).Where("id IN ?", versionOnly[v]).
					Updates(map[string]any{"scoring_version": v, "updated_at": now}).Error; err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("store: unable to update leads: %w", err)
	}
	return last, nil
}

// Absorb folds lead `from` into this lead in its transaction (the same
// person reached through several contacts, found by unionid): the absorbed
// lead is marked merged, with a transition saying why, and returned as it
// was, for its data to be merged in. It returns nil when that lead is gone
// or already merged.
func (lt *LeadTx) Absorb(from uint64, reason string) (*Lead, error) {
	var l Lead
	q := lt.tx.Where("id = ? AND corp_id = ? AND merged_into = 0 AND deleted_at IS NULL", from, lt.Lead.CorpID)
	if lt.s.dialect == "mysql" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&l).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil
		}
		return nil, err
	}
	now := lt.s.Now()
	if err := lt.tx.Model(&Lead{}).Where("id = ?", from).Updates(map[string]any{"merged_into": lt.Lead.ID, "updated_at": now}).Error; err != nil {
		return nil, err
	}
	if err := lt.tx.Create(&LeadTransition{CorpID: l.CorpID, LeadID: from, From: "", To: "merged",
		Reason: truncate(reason, 512), Actor: "system", At: now}).Error; err != nil {
		return nil, err
	}
	return &l, nil
}

// LeadsByUnionID returns live, unmerged leads of a corp with this unionid, oldest first.
func (s *Store) LeadsByUnionID(ctx context.Context, corpID, unionID string) ([]Lead, error) {
	var out []Lead
	err := s.db.WithContext(ctx).Where("corp_id = ? AND union_id = ? AND merged_into = 0 AND deleted_at IS NULL", corpID, unionID).
		Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read leads by unionid: %w", err)
	}
	return out, nil
}

// LeadFilter selects leads for the API; pages go by descending id.
type LeadFilter struct {
	CorpID   string
	Stage    string
	Owner    string
	Tag      string
	MinScore *int
	Q        string
	// ContactID selects the lead of one contact (the lead it was merged
	// into, when the same person was merged by unionid).
	ContactID uint64
	BeforeID  uint64
	Limit     int
}

// ListLeads returns unmerged leads, newest first.
func (s *Store) ListLeads(ctx context.Context, f LeadFilter) ([]Lead, error) {
	q := s.db.WithContext(ctx).Where("corp_id = ? AND merged_into = 0 AND deleted_at IS NULL", f.CorpID)
	if f.Stage != "" {
		q = q.Where("stage = ?", f.Stage)
	}
	if f.Owner != "" {
		q = q.Where("owner = ?", f.Owner)
	}
	if f.Tag != "" {
		q = q.Where("tags LIKE ?", `%"`+escapeLike(f.Tag)+`"%`)
	}
	if f.MinScore != nil {
		q = q.Where("score >= ?", *f.MinScore)
	}
	if m := NormalizeMobile(f.Q); f.Q != "" && len(m) >= 11 && !strings.ContainsFunc(f.Q, func(r rune) bool {
		return !strings.ContainsRune("0123456789 +-()", r)
	}) {
		// A phone number: exact match through the blind index, under every
		// key (rows not yet re-sealed after a rotation keep their old index).
		// The ids are looked up on their own: given the list's conditions
		// too, SQLite's planner prefers the (corp, merged, deleted) index
		// and reads every lead of the corp.
		var ids []uint64
		err := s.db.WithContext(ctx).Model(&Lead{}).Where("corp_id = ? AND mobile_index IN ?", f.CorpID, s.keys.blindIndexes(f.Q)).
			Limit(SearchScanLimit).Pluck("id", &ids).Error
		if err != nil {
			return nil, fmt.Errorf("store: unable to list leads: %w", err)
		}
		if len(ids) == 0 {
			return []Lead{}, nil
		}
		q = q.Where("id IN ?", ids)
		f.Q = ""
	}
	if f.ContactID > 0 {
		q = q.Where("id IN (SELECT CASE WHEN merged_into = 0 THEN id ELSE merged_into END FROM leads WHERE corp_id = ? AND contact_id = ?)",
			f.CorpID, f.ContactID)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Q != "" {
		return s.searchLeads(ctx, q, f)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []Lead
	if err := q.Order("id DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list leads: %w", err)
	}
	return out, nil
}

// LeadChanges is the CRM's change feed: a corp's leads, absorbed ones
// included, changed after (after, afterID) in (updated_at, id) order, up to
// until, at most n.
func (s *Store) LeadChanges(ctx context.Context, corpID string, after time.Time, afterID uint64, until time.Time, n int) ([]Lead, error) {
	var out []Lead
	after = after.UTC()
	err := s.db.WithContext(ctx).Where("corp_id = ? AND deleted_at IS NULL AND (updated_at > ? OR (updated_at = ? AND id > ?)) AND updated_at <= ?",
		corpID, after, after, afterID, until.UTC()).Order("updated_at, id").Limit(n).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read lead changes: %w", err)
	}
	return out, nil
}

// GetLead returns a lead with its transitions.
func (s *Store) GetLead(ctx context.Context, corpID string, id uint64) (*Lead, []LeadTransition, error) {
	var l Lead
	db := s.db.WithContext(ctx)
	if err := notFound(db.Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).First(&l).Error, "lead"); err != nil {
		return nil, nil, err
	}
	var tr []LeadTransition
	if err := db.Where("lead_id = ?", id).Order("at, id").Find(&tr).Error; err != nil {
		return nil, nil, fmt.Errorf("store: unable to read transitions: %w", err)
	}
	return &l, tr, nil
}

// FunnelCounts counts the leads that reached each stage in [from, to),
// optionally only those from one channel code.
func (s *Store) FunnelCounts(ctx context.Context, corpID string, from, to time.Time, codeID uint64) (map[string]int, error) {
	type row struct {
		Stage string
		N     int
	}
	var rows []row
	q := s.db.WithContext(ctx).Table("lead_transitions t").
		Select("t.to_stage AS stage, COUNT(DISTINCT t.lead_id) AS n").
		Where("t.corp_id = ? AND t.at >= ? AND t.at < ?", corpID, from.UTC(), to.UTC())
	if codeID > 0 {
		q = q.Joins("JOIN leads l ON l.id = t.lead_id").Where("l.source_code_id = ?", codeID)
	}
	if err := q.Group("t.to_stage").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to count funnel: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Stage] = r.N
	}
	return out, nil
}

// FurthestStages counts the leads with a transition in [from, to) by the
// furthest of the ordered stages they moved to in it (optionally only leads
// from one channel code); a lead that moved only to stages outside order is
// not counted.
func (s *Store) FurthestStages(ctx context.Context, corpID string, from, to time.Time, codeID uint64, order []string) (map[string]int, error) {
	if len(order) == 0 {
		return map[string]int{}, nil
	}
	var rank strings.Builder
	args := make([]any, 0, len(order))
	rank.WriteString("MAX(CASE t.to_stage")
	for i, st := range order {
		fmt.Fprintf(&rank, " WHEN ? THEN %d", i)
		args = append(args, st)
	}
	rank.WriteString(" ELSE -1 END) AS r")
	q := s.db.WithContext(ctx).Table("lead_transitions t").Select("t.lead_id, "+rank.String(), args...).
		Where("t.corp_id = ? AND t.at >= ? AND t.at < ?", corpID, from.UTC(), to.UTC())
	if codeID > 0 {
		q = q.Joins("JOIN leads l ON l.id = t.lead_id").Where("l.source_code_id = ?", codeID)
	}
	type row struct {
		R int
		N int
	}
	var rows []row
	err := s.db.WithContext(ctx).Table("(?) AS x", q.Group("t.lead_id")).Select("x.r AS r, COUNT(*) AS n").
		Where("x.r >= 0").Group("x.r").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to count funnel stages: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[order[r.R]] = r.N
	}
	return out, nil
}

// TagRule is an admin's "when ... if ... then ..." rule; conditions and
// actions are JSON owned by service.
type TagRule struct {
	ID         uint64
	CorpID     string
	Name       string
	Priority   int
	Enabled    bool
	Trigger    string `gorm:"column:trigger_event"`
	Conditions string
	Actions    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DeletedAt  *time.Time
}

func (TagRule) TableName() string { return "tag_rules" }

// SaveTagRule inserts or updates a rule.
func (s *Store) SaveTagRule(ctx context.Context, r *TagRule) error {
	now := s.Now()
	if r.ID == 0 {
		r.CreatedAt = now
	}
	r.UpdatedAt = now
	defer s.leadRulesChanged()
	if err := s.db.WithContext(ctx).Save(r).Error; err != nil {
		return fmt.Errorf("store: unable to save tag rule: %w", err)
	}
	return nil
}

// GetTagRule returns a live rule.
func (s *Store) GetTagRule(ctx context.Context, corpID string, id uint64) (*TagRule, error) {
	var r TagRule
	err := s.db.WithContext(ctx).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).First(&r).Error
	return &r, notFound(err, "tag rule")
}

// DeleteTagRule retires a rule.
func (s *Store) DeleteTagRule(ctx context.Context, corpID string, id uint64) error {
	defer s.leadRulesChanged()
	now := s.Now()
	res := s.db.WithContext(ctx).Model(&TagRule{}).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).
		Updates(map[string]any{"deleted_at": now, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("store: unable to delete tag rule: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ListTagRules returns a corp's live rules in priority order.
func (s *Store) ListTagRules(ctx context.Context, corpID string) ([]TagRule, error) {
	var out []TagRule
	err := s.db.WithContext(ctx).Where("corp_id = ? AND deleted_at IS NULL", corpID).Order("priority, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to list tag rules: %w", err)
	}
	return out, nil
}

// ScoringConfig is a corp's scoring settings (JSON owned by service).
type ScoringConfig struct {
	CorpID    string `gorm:"primaryKey"`
	Config    string
	Version   int
	UpdatedAt time.Time
}

func (ScoringConfig) TableName() string { return "scoring_configs" }

// GetScoringConfig returns the corp's config, or ok=false for defaults.
func (s *Store) GetScoringConfig(ctx context.Context, corpID string) (cfg string, version int, ok bool, err error) {
	var c ScoringConfig
	err = s.db.WithContext(ctx).Where("corp_id = ?", corpID).First(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("store: unable to read scoring config: %w", err)
	}
	return c.Config, c.Version, true, nil
}

// SaveScoringConfig stores a new config and returns its version.
func (s *Store) SaveScoringConfig(ctx context.Context, corpID, cfg string) (int, error) {
	var version int
	defer s.leadRulesChanged()
	err := retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var c ScoringConfig
			q := tx.Where("corp_id = ?", corpID)
			if s.dialect == "mysql" {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			err := q.First(&c).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				version = 1
				return tx.Create(&ScoringConfig{CorpID: corpID, Config: cfg, Version: 1, UpdatedAt: s.Now()}).Error
			}
			if err != nil {
				return err
			}
			version = c.Version + 1
			return tx.Model(&ScoringConfig{}).Where("corp_id = ?", corpID).
				Updates(map[string]any{"config": cfg, "version": version, "updated_at": s.Now()}).Error
		})
	})
	if err != nil {
		return 0, fmt.Errorf("store: unable to save scoring config: %w", err)
	}
	return version, nil
}

// CRMStatus is a CRM's answer about a lead, kept by the CRM's event id so a
// repeated answer is recognised.
type CRMStatus struct {
	CorpID     string `gorm:"primaryKey"`
	CRMEventID string `gorm:"column:crm_event_id;primaryKey"`
	LeadID     uint64
	Status     string
	Result     string
	// ReasonDigest is the hex SHA-256 of the answer's reason; "" when not
	// known (answers stored before version 15, erased leads).
	ReasonDigest string `gorm:"size:64;not null;default:''"`
	At           time.Time
}

func (CRMStatus) TableName() string { return "crm_statuses" }

// CRMStatusByEvent returns an answer already received, if any.
func (s *Store) CRMStatusByEvent(ctx context.Context, corpID, eventID string) (*CRMStatus, error) {
	var c CRMStatus
	err := s.db.WithContext(ctx).Where("corp_id = ? AND crm_event_id = ?", corpID, eventID).First(&c).Error
	return &c, notFound(err, "crm status")
}

// RecordCRMStatus stores an answer in the lead's transaction; a repeat of the
// event id is ErrConflict.
func (lt *LeadTx) RecordCRMStatus(eventID, status, reasonDigest, result string) error {
	err := lt.tx.Create(&CRMStatus{CorpID: lt.Lead.CorpID, CRMEventID: eventID, LeadID: lt.Lead.ID, Status: status,
		ReasonDigest: reasonDigest, Result: truncate(result, 512), At: lt.s.Now()}).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	return err
}

// Emit writes webhook events in the lead's transaction (outbox).
func (lt *LeadTx) Emit(es ...OutboxEvent) error { return lt.s.emit(lt.tx, es...) }

// keepMobileIndex keeps the mobile's blind index in step with the mobile,
// under the active key, on every create and save of a lead (a column map
// update of mobile sets mobile_index itself). It runs as a callback
// registered by installKeyring, where a GORM hook would have to be an
// exported method taking *gorm.DB.
func keepMobileIndex(tx *gorm.DB) {
	if tx.Error != nil || tx.Statement.SkipHooks || tx.Statement.Schema == nil || tx.Statement.Schema.Table != (Lead{}).TableName() {
		return
	}
	kr := keyringFrom(tx.Statement.Context)
	set := func(v reflect.Value) {
		if l, ok := v.Addr().Interface().(*Lead); ok {
			if kr == nil {
				_ = tx.AddError(ErrNoKeyring)
				return
			}
			l.MobileIndex = kr.blindIndex(kr.active, l.Mobile)
		}
	}
	switch rv := tx.Statement.ReflectValue; rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			if v := reflect.Indirect(rv.Index(i)); v.CanAddr() {
				set(v)
			}
		}
	case reflect.Struct:
		if rv.CanAddr() {
			set(rv)
		}
	}
}

// searchLeads pages through the leads q selects, newest first, reading only
// the searched columns, and keeps those whose name, company name or mobile
// contains f.Q; the kept leads are then read whole. At most SearchScanLimit
// rows are read.
func (s *Store) searchLeads(ctx context.Context, q *gorm.DB, f LeadFilter) ([]Lead, error) {
	needle := strings.ToLower(f.Q)
	before := f.BeforeID
	var ids []uint64
	for scanned := 0; scanned < SearchScanLimit && len(ids) < f.Limit; {
		page := q.Session(&gorm.Session{}).Select("id, name, corp_name, mobile")
		if before > 0 {
			page = page.Where("id < ?", before)
		}
		var rows []Lead
		if err := page.Order("id DESC").Limit(searchChunk).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: unable to search leads: %w", err)
		}
		for i := range rows {
			if matchesQ(needle, rows[i].Name, rows[i].CorpName, rows[i].Mobile) {
				ids = append(ids, rows[i].ID)
				if len(ids) == f.Limit {
					break
				}
			}
		}
		if len(rows) < searchChunk {
			break
		}
		scanned += len(rows)
		before = rows[len(rows)-1].ID
	}
	if len(ids) == 0 {
		return []Lead{}, nil
	}
	var out []Lead
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id DESC").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list leads: %w", err)
	}
	return out, nil
}
