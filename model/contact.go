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

// Relation statuses.
const (
	RelationActive      = "active"
	RelationLost        = "lost"        // the customer deleted the staff member
	RelationDeleted     = "deleted"     // the staff member deleted the customer
	RelationTransferred = "transferred" // handed over to another staff member
)

// Contact is an external contact (a customer) of a corp.
type Contact struct {
	ID               uint64
	CorpID           string
	ExternalUserID   string
	Name             string `gorm:"serializer:sealed"`
	Avatar           string `gorm:"serializer:sealed"`
	Type             int
	Gender           int
	UnionID          string
	CorpName         string `gorm:"serializer:sealed"`
	Source           string
	SourceCodeID     uint64
	State            string
	FirstSeenAt      time.Time
	UpdatedAt        time.Time
	ProfileFetchedAt *time.Time
	// ErasedAt is set when the customer's personal data was erased.
	ErasedAt *time.Time
}

func (Contact) TableName() string { return "contacts" }

// Relation is one staff member's follow of a contact.
type Relation struct {
	ID             uint64
	CorpID         string
	UserID         string
	ExternalUserID string
	ContactID      uint64
	CodeID         uint64
	State          string
	Remark         string `gorm:"serializer:sealed"`
	Tags           string
	Status         string
	HalfAdded      bool
	AddedAt        time.Time
	LostAt         *time.Time
	LossReason     string
	UpdatedAt      time.Time
}

func (Relation) TableName() string { return "relations" }

// TimelineEntry is one thing that happened to a contact.
type TimelineEntry struct {
	ID        uint64
	CorpID    string
	ContactID uint64
	At        time.Time
	Kind      string
	UserID    string
	CodeID    uint64
	Detail    string
	EventID   *uint64
}

func (TimelineEntry) TableName() string { return "contact_timeline" }

// AddRecord is everything an add event changes, applied in one transaction.
type AddRecord struct {
	CorpID         string
	EventID        uint64
	UserID         string
	ExternalUserID string
	State          string
	CodeID         uint64 // 0 when the state is not one of our codes
	Source         string
	HalfAdded      bool
	At             time.Time
	// CountDay is the roster-local day whose count this add raises; empty
	// means it does not count toward a cap.
	CountDay string
	// ConsumeHold: the add follows a precise-mode landing pick, whose hold
	// it consumes (the add counts instead).
	ConsumeHold bool
	// StatDay is the roster-local day of the code's statistics.
	StatDay string
	Detail  string
	Jobs    []*Job
	// JobsFor are more jobs, given the contact (their payloads may name it).
	JobsFor func(c *Contact) []*Job
	// Events are the webhook events of the add, given the contact as it is
	// after it (outbox).
	Events func(c *Contact) []OutboxEvent
}

// RecordAdd applies an add event once: a second call for the same event
// changes nothing and reports applied=false. It returns the staff member's
// count for CountDay after the add.
func (s *Store) RecordAdd(ctx context.Context, r AddRecord) (applied bool, count int, contactID uint64, err error) {
	now := s.Now()
	var fin *TxFinish
	err = retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// Most adds are of a new customer: insert first, and read the
			// contact only when it exists already.
			c := Contact{CorpID: r.CorpID, ExternalUserID: r.ExternalUserID, Source: r.Source, SourceCodeID: r.CodeID,
				State: r.State, FirstSeenAt: r.At, UpdatedAt: now}
			err := tx.Create(&c).Error
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				c = Contact{}
				err = tx.Where("corp_id = ? AND external_user_id = ?", r.CorpID, r.ExternalUserID).First(&c).Error
			}
			if err != nil {
				return err
			}
			contactID = c.ID
			evID := r.EventID
			entry := TimelineEntry{CorpID: r.CorpID, ContactID: c.ID, At: r.At, Kind: "added", UserID: r.UserID,
				CodeID: r.CodeID, Detail: truncate(r.Detail, 1024)}
			if evID > 0 {
				entry.EventID = &evID
			}
			if err := tx.Create(&entry).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return errAlreadyApplied
				}
				return err
			}
			rel := Relation{CorpID: r.CorpID, UserID: r.UserID, ExternalUserID: r.ExternalUserID, ContactID: c.ID,
				CodeID: r.CodeID, State: r.State, Tags: "[]", Status: RelationActive, HalfAdded: r.HalfAdded, AddedAt: r.At, UpdatedAt: now}
			if err := tx.Clauses(clause.OnConflict{
				Columns: []clause.Column{{Name: "corp_id"}, {Name: "user_id"}, {Name: "external_user_id"}},
				DoUpdates: clause.Assignments(map[string]any{
					"code_id": r.CodeID, "state": r.State, "status": RelationActive, "half_added": r.HalfAdded,
					"added_at": r.At, "lost_at": nil, "loss_reason": "", "updated_at": now,
				}),
			}).Create(&rel).Error; err != nil {
				return err
			}
			if r.Events != nil {
				if err := s.emit(tx, r.Events(&c)...); err != nil {
					return err
				}
			}
			if r.CodeID > 0 && r.CountDay != "" && r.ConsumeHold {
				if err := consumeHold(tx, r.CodeID, r.CountDay, r.UserID, r.At, now); err != nil {
					return err
				}
			}
			if r.CodeID > 0 && r.CountDay != "" {
				if count, err = s.countAdd(tx, r.CorpID, r.CodeID, r.CountDay, r.UserID); err != nil {
					return err
				}
			}
			if r.CodeID > 0 && r.StatDay != "" {
				if err := s.bump(tx, &CodeDailyStat{CodeID: r.CodeID, Day: r.StatDay, UserID: r.UserID, CorpID: r.CorpID, Adds: 1},
					[]string{"code_id", "day", "user_id"}, "adds", 1); err != nil {
					return err
				}
			}
			jobs := r.Jobs
			if r.JobsFor != nil {
				jobs = append(append([]*Job(nil), jobs...), r.JobsFor(&c)...)
			}
			if err := enqueueJobs(tx, now, jobs); err != nil {
				return err
			}
			// The event's outcome, when the queue lets this transaction
			// write it (model.WithFinish).
			fin, err = s.finishInTx(ctx, tx)
			return err
		})
	})
	if errors.Is(err, errAlreadyApplied) {
		return false, 0, contactID, nil
	}
	if err != nil {
		return false, 0, 0, fmt.Errorf("store: unable to record add: %w", err)
	}
	committed(fin)
	return true, count, contactID, nil
}

var errAlreadyApplied = errors.New("already applied")

// LossRecord is a relation ending.
type LossRecord struct {
	CorpID         string
	EventID        uint64
	UserID         string
	ExternalUserID string
	Status         string // RelationLost, RelationDeleted or RelationTransferred
	Reason         string
	At             time.Time
	// StatDay maps the relation's code to the code-local day to count a loss
	// on; nil or "" counts none (a transfer is not a loss).
	StatDay func(codeID uint64) string
	// Jobs are enqueued with the change (only when there was one).
	Jobs []*Job
	// Events are the webhook events of the loss, given the relation as it
	// was before it (outbox).
	Events func(rel *Relation) []OutboxEvent
}

// RecordLoss applies a relation's end once. It reports whether a relation
// was found and changed.
func (s *Store) RecordLoss(ctx context.Context, r LossRecord) (bool, error) {
	now := s.Now()
	changed := false
	err := retryable(func() error {
		changed = false
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var rel Relation
			err := tx.Where("corp_id = ? AND user_id = ? AND external_user_id = ?", r.CorpID, r.UserID, r.ExternalUserID).First(&rel).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			evID := r.EventID
			entry := TimelineEntry{CorpID: r.CorpID, ContactID: rel.ContactID, At: r.At, Kind: r.Status, UserID: r.UserID,
				CodeID: rel.CodeID, Detail: truncate(r.Reason, 1024)}
			if evID > 0 {
				entry.EventID = &evID
			}
			if err := tx.Create(&entry).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return nil
				}
				return err
			}
			if err := tx.Model(&Relation{}).Where("id = ?", rel.ID).Updates(map[string]any{
				"status": r.Status, "lost_at": r.At, "loss_reason": truncate(r.Reason, 32), "updated_at": now,
			}).Error; err != nil {
				return err
			}
			changed = true
			if r.Events != nil {
				if err := s.emit(tx, r.Events(&rel)...); err != nil {
					return err
				}
			}
			if rel.CodeID > 0 && r.StatDay != nil && rel.Status == RelationActive {
				if day := r.StatDay(rel.CodeID); day != "" {
					if err := s.bump(tx, &CodeDailyStat{CodeID: rel.CodeID, Day: day, UserID: r.UserID, CorpID: r.CorpID, Losses: 1},
						[]string{"code_id", "day", "user_id"}, "losses", 1); err != nil {
						return err
					}
				}
			}
			return enqueueJobs(tx, now, r.Jobs)
		})
	})
	if err != nil {
		return false, fmt.Errorf("store: unable to record loss: %w", err)
	}
	return changed, nil
}

// ContactProfile is what externalcontact/get tells about a contact.
type ContactProfile struct {
	Name, Avatar, UnionID, CorpName string
	Type, Gender                    int
}

// UpdateContactProfile stores a fetched profile and the staff member's view
// (remark, tags) of the relation.
func (s *Store) UpdateContactProfile(ctx context.Context, corpID, externalUserID string, p ContactProfile, userID, remark, tagsJSON string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := s.updateProfile(tx, s.Now(), corpID, externalUserID, p, userID, remark, tagsJSON)
		return err
	})
}

// updateProfile writes a fetched profile and the relation's remark and tags
// in tx; found is false when there is no such contact.
func (s *Store) updateProfile(tx *gorm.DB, now time.Time, corpID, externalUserID string, p ContactProfile, userID, remark, tagsJSON string) (found bool, err error) {
	res := tx.Model(&Contact{}).Where("corp_id = ? AND external_user_id = ?", corpID, externalUserID).Updates(map[string]any{
		"name": s.seal("contacts.name", truncate(p.Name, 128)), "avatar": s.seal("contacts.avatar", truncate(p.Avatar, 512)),
		"union_id": truncate(p.UnionID, 64), "corp_name": s.seal("contacts.corp_name", truncate(p.CorpName, 128)),
		"type": p.Type, "gender": p.Gender,
		"profile_fetched_at": now, "updated_at": now,
	})
	if res.Error != nil || userID == "" {
		return res.RowsAffected > 0, res.Error
	}
	return res.RowsAffected > 0, tx.Model(&Relation{}).Where("corp_id = ? AND user_id = ? AND external_user_id = ?", corpID, userID, externalUserID).
		Updates(map[string]any{"remark": s.seal("relations.remark", truncate(remark, 64)), "tags": tagsJSON, "updated_at": now}).Error
}

// FollowUp is what the follow-up of an add learnt and did, written at once:
// the fetched profile, the relation's remark and tags, jobs for the steps
// still to do, and the change to the contact's lead.
type FollowUp struct {
	CorpID         string
	ContactID      uint64
	ExternalUserID string
	UserID         string
	Profile        ContactProfile
	Remark         string
	Tags           string // JSON list of names
	Jobs           []*Job
	// LeadInit and Lead change the contact's lead as UpdateLeadOfContact
	// does; nil Lead leaves it alone. They see the contact with Profile.
	LeadInit func(c *Contact) *Lead
	Lead     func(lt *LeadTx) error
}

// RecordFollowUp writes a follow-up in one transaction, which also records
// the job's outcome when ctx lets it (WithFinish). With no such contact (it
// was erased) the lead is left alone. A lead merged into another is not
// changed (ErrLeadMerged is not returned: the rest is written). An add is
// nearly always of a new customer, so the lead is inserted first and read
// only when the contact has one already.
func (s *Store) RecordFollowUp(ctx context.Context, f FollowUp) error {
	var fin *TxFinish
	err := retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := s.Now()
			found, err := s.updateProfile(tx, now, f.CorpID, f.ExternalUserID, f.Profile, f.UserID, f.Remark, f.Tags)
			if err != nil {
				return err
			}
			if err := enqueueJobs(tx, now, f.Jobs); err != nil {
				return err
			}
			if found && f.Lead != nil {
				c := &Contact{ID: f.ContactID, CorpID: f.CorpID, ExternalUserID: f.ExternalUserID, Name: f.Profile.Name,
					Avatar: f.Profile.Avatar, UnionID: f.Profile.UnionID, CorpName: f.Profile.CorpName, Type: f.Profile.Type,
					Gender: f.Profile.Gender}
				err := s.updateLeadTx(tx, func(tx *gorm.DB) *gorm.DB {
					return tx.Where("corp_id = ? AND contact_id = ?", f.CorpID, f.ContactID)
				}, func(*gorm.DB) (*Lead, error) { return f.LeadInit(c), nil }, true, f.Lead)
				if err != nil && !errors.Is(err, ErrLeadMerged) {
					return err
				}
			}
			fin, err = s.finishInTx(ctx, tx)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("store: unable to record follow-up: %w", err)
	}
	committed(fin)
	return nil
}

// SetRelationRemark records the remark the gateway set.
func (s *Store) SetRelationRemark(ctx context.Context, corpID, userID, externalUserID, remark string) error {
	return s.db.WithContext(ctx).Model(&Relation{}).
		Where("corp_id = ? AND user_id = ? AND external_user_id = ?", corpID, userID, externalUserID).
		Updates(map[string]any{"remark": s.seal("relations.remark", truncate(remark, 64)), "updated_at": s.Now()}).Error
}

// SetRelationTags records the relation's tags (JSON list of names).
func (s *Store) SetRelationTags(ctx context.Context, corpID, userID, externalUserID, tagsJSON string) error {
	return s.db.WithContext(ctx).Model(&Relation{}).
		Where("corp_id = ? AND user_id = ? AND external_user_id = ?", corpID, userID, externalUserID).
		Updates(map[string]any{"tags": tagsJSON, "updated_at": s.Now()}).Error
}

// ContactByExternalID returns a contact.
func (s *Store) ContactByExternalID(ctx context.Context, corpID, externalUserID string) (*Contact, error) {
	var c Contact
	err := s.db.WithContext(ctx).Where("corp_id = ? AND external_user_id = ?", corpID, externalUserID).First(&c).Error
	return &c, notFound(err, "contact")
}

// AddTimeline appends an entry (welcome outcomes, job outcomes).
func (s *Store) AddTimeline(ctx context.Context, e *TimelineEntry) error {
	if e.At.IsZero() {
		e.At = s.Now()
	}
	e.Detail = truncate(e.Detail, 1024)
	err := s.db.WithContext(ctx).Create(e).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return nil
	}
	return err
}

// ContactFilter selects contacts for the admin API.
type ContactFilter struct {
	CorpID string
	CodeID uint64
	UserID string
	// Follower keeps only contacts this staff member follows: a relation of
	// theirs that was not handed over to someone else.
	Follower string
	Tag      string
	Q        string
	AfterID  uint64
	Limit    int
}

// ListContacts returns contacts by id, filtered through their relations.
func (s *Store) ListContacts(ctx context.Context, f ContactFilter) ([]Contact, error) {
	q := s.db.WithContext(ctx).Model(&Contact{})
	if f.CorpID != "" {
		q = q.Where("contacts.corp_id = ?", f.CorpID)
	}
	if f.CodeID > 0 || f.UserID != "" || f.Tag != "" {
		sub := s.db.Model(&Relation{}).Select("contact_id")
		if f.CodeID > 0 {
			sub = sub.Where("code_id = ?", f.CodeID)
		}
		if f.UserID != "" {
			sub = sub.Where("user_id = ?", f.UserID)
		}
		if f.Tag != "" {
			sub = sub.Where("tags LIKE ?", `%"`+escapeLike(f.Tag)+`"%`)
		}
		q = q.Where("contacts.id IN (?)", sub)
	}
	if f.Follower != "" {
		q = q.Where("contacts.id IN (?)", s.db.Model(&Relation{}).Select("contact_id").
			Where("user_id = ? AND status <> ?", f.Follower, RelationTransferred))
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Q != "" {
		return s.searchContacts(ctx, q, f)
	}
	if f.AfterID > 0 {
		q = q.Where("contacts.id > ?", f.AfterID)
	}
	var out []Contact
	if err := q.Order("contacts.id").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list contacts: %w", err)
	}
	return out, nil
}

// SearchScanLimit bounds the rows one search reads and opens: names are
// sealed, so a search decrypts the caller's contacts (or leads) in id order
// and filters them here. A search that reaches it answers with what it found.
const SearchScanLimit = 50000

// searchChunk is how many rows a search reads per statement.
const searchChunk = 1000

// matchesQ reports whether one of the fields contains q, ignoring case.
func matchesQ(q string, fields ...string) bool {
	for _, f := range fields {
		if f != "" && strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// searchScopeChunk is how many ids of the caller's scope a contact search
// selects per statement: the scope's relation subqueries (a staff token's
// customers) are evaluated once per such statement, not per row chunk.
const searchScopeChunk = 10000

// searchContacts pages through the contacts q selects by id, reading only
// the searched columns, and keeps those whose name or company name contains
// f.Q or whose external_userid starts with it; the kept contacts are then
// read whole. The scope's ids are selected first, 10,000 at a time, and
// their rows read by primary key.
func (s *Store) searchContacts(ctx context.Context, q *gorm.DB, f ContactFilter) ([]Contact, error) {
	needle := strings.ToLower(f.Q)
	after := f.AfterID
	db := s.db.WithContext(ctx)
	var ids []uint64
	for scanned := 0; scanned < SearchScanLimit && len(ids) < f.Limit; {
		var scope []uint64
		err := q.Session(&gorm.Session{}).Where("contacts.id > ?", after).Order("contacts.id").
			Limit(min(searchScopeChunk, SearchScanLimit-scanned)).Pluck("contacts.id", &scope).Error
		if err != nil {
			return nil, fmt.Errorf("store: unable to search contacts: %w", err)
		}
		for start := 0; start < len(scope) && len(ids) < f.Limit; start += searchChunk {
			var rows []Contact
			err := db.Select("id, external_user_id, name, corp_name").Where("id IN ?", scope[start:min(start+searchChunk, len(scope))]).
				Order("id").Find(&rows).Error
			if err != nil {
				return nil, fmt.Errorf("store: unable to search contacts: %w", err)
			}
			for i := range rows {
				c := &rows[i]
				if strings.HasPrefix(c.ExternalUserID, f.Q) || matchesQ(needle, c.Name, c.CorpName) {
					ids = append(ids, c.ID)
					if len(ids) == f.Limit {
						break
					}
				}
			}
		}
		if len(scope) < searchScopeChunk {
			break
		}
		scanned += len(scope)
		after = scope[len(scope)-1]
	}
	if len(ids) == 0 {
		return []Contact{}, nil
	}
	var out []Contact
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list contacts: %w", err)
	}
	return out, nil
}

// ContactDetail is a contact with its relations and timeline.
type ContactDetail struct {
	Contact   Contact
	Relations []Relation
	Timeline  []TimelineEntry
}

// GetContact returns a contact of corp with relations and timeline.
func (s *Store) GetContact(ctx context.Context, corpID string, id uint64) (*ContactDetail, error) {
	var d ContactDetail
	db := s.db.WithContext(ctx)
	if err := notFound(db.Where("id = ? AND corp_id = ?", id, corpID).First(&d.Contact).Error, "contact"); err != nil {
		return nil, err
	}
	if err := db.Where("contact_id = ?", id).Order("added_at").Find(&d.Relations).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read relations: %w", err)
	}
	if err := db.Where("contact_id = ?", id).Order("at, id").Limit(500).Find(&d.Timeline).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read timeline: %w", err)
	}
	return &d, nil
}

// RelationsOf returns a contact's relations.
func (s *Store) RelationsOf(ctx context.Context, corpID, externalUserID string) ([]Relation, error) {
	var out []Relation
	err := s.db.WithContext(ctx).Where("corp_id = ? AND external_user_id = ?", corpID, externalUserID).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read relations: %w", err)
	}
	return out, nil
}

// EventsOfContact returns the stored callbacks about one external contact,
// payloads included, oldest first (at most limit).
func (s *Store) EventsOfContact(ctx context.Context, corpID, externalUserID string, limit int) ([]Event, error) {
	var out []Event
	err := s.db.WithContext(ctx).Where("corp_id = ? AND external_user_id = ?", corpID, externalUserID).
		Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read a contact's events: %w", err)
	}
	return out, nil
}
