package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// GroupCode is a group live code: one WeCom join way in front of a pool of
// customer groups. ChatList is the JSON list last written to the join way.
type GroupCode struct {
	ID                uint64
	CorpID            string
	Name              string
	Title             string
	Text              string
	State             string
	Slug              string
	ConfigID          string
	QRCode            string
	Threshold         int
	AutoCreate        bool
	RoomBaseName      string
	RoomBaseID        int
	Welcome           string
	WelcomeTemplateID string
	UTM               string `gorm:"column:utm"`
	ChatList          string
	Dry               bool
	Alert             string
	SyncedAt          *time.Time
	ReconciledAt      *time.Time
	CreatedBy         string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	DeletedAt         *time.Time
}

func (GroupCode) TableName() string { return "group_codes" }

// GroupCodeChat is one customer group of a code's pool, with the member
// counts last read from WeCom.
type GroupCodeChat struct {
	ID            uint64
	CorpID        string
	ChatID        string
	CodeID        uint64
	Position      int
	Name          string
	Members       int
	Customers     int
	MemberVersion string
	Dismissed     bool
	AutoCreated   bool
	RefreshedAt   *time.Time
	CreatedAt     time.Time
}

func (GroupCodeChat) TableName() string { return "group_code_chats" }

// ChatMemberEvent is one member joining or leaving a group we watch; the
// unique (corp, event, member, kind) makes a re-run event count once.
type ChatMemberEvent struct {
	ID          uint64
	CorpID      string
	EventID     uint64
	MemberID    string
	Kind        string
	ChatID      string
	State       string
	GroupCodeID uint64
	StoreCodeID uint64
	StoreID     uint64
	Day         string
	At          time.Time
}

func (ChatMemberEvent) TableName() string { return "chat_member_events" }

// Chat member event kinds.
const (
	MemberJoin  = "join"
	MemberLeave = "leave"
)

// CreateGroupCode inserts a code and its pool in one transaction; a taken
// state, slug or chat is ErrConflict.
func (s *Store) CreateGroupCode(ctx context.Context, c *GroupCode, pool []GroupCodeChat) error {
	now := s.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		for i := range pool {
			pool[i].CodeID, pool[i].CorpID, pool[i].CreatedAt = c.ID, c.CorpID, now
		}
		if len(pool) == 0 {
			return nil
		}
		return tx.Create(&pool).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: unable to create group code: %w", err)
	}
	return nil
}

// SaveGroupCode writes every column of a code.
func (s *Store) SaveGroupCode(ctx context.Context, c *GroupCode) error {
	c.UpdatedAt = s.Now()
	if err := s.db.WithContext(ctx).Save(c).Error; err != nil {
		return fmt.Errorf("store: unable to save group code %d: %w", c.ID, err)
	}
	return nil
}

// ReplaceGroupCodePool makes pool (in its order) the code's pool: chats
// that left are removed, kept ones keep their counts, new ones are added.
func (s *Store) ReplaceGroupCodePool(ctx context.Context, c *GroupCode, pool []GroupCodeChat) error {
	now := s.Now()
	err := retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			ids := make([]string, len(pool))
			for i, p := range pool {
				ids[i] = p.ChatID
			}
			del := tx.Where("code_id = ?", c.ID)
			if len(ids) > 0 {
				del = del.Where("chat_id NOT IN ?", ids)
			}
			if err := del.Delete(&GroupCodeChat{}).Error; err != nil {
				return err
			}
			var kept []GroupCodeChat
			if err := tx.Where("code_id = ?", c.ID).Find(&kept).Error; err != nil {
				return err
			}
			have := map[string]bool{}
			for _, k := range kept {
				have[k.ChatID] = true
			}
			for i := range pool {
				p := pool[i]
				if have[p.ChatID] {
					if err := tx.Model(&GroupCodeChat{}).Where("code_id = ? AND chat_id = ?", c.ID, p.ChatID).
						Update("position", i).Error; err != nil {
						return err
					}
					continue
				}
				p.ID, p.CodeID, p.CorpID, p.Position, p.CreatedAt = 0, c.ID, c.CorpID, i, now
				if err := tx.Create(&p).Error; err != nil {
					return err
				}
			}
			return tx.Model(&GroupCode{}).Where("id = ?", c.ID).Update("updated_at", now).Error
		})
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: unable to replace pool of group code %d: %w", c.ID, err)
	}
	return nil
}

// DeleteGroupCode marks a code deleted and frees its chats for other
// codes; its member events stay for the statistics.
func (s *Store) DeleteGroupCode(ctx context.Context, id uint64) error {
	now := s.Now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&GroupCode{}).Where("id = ? AND deleted_at IS NULL", id).
			Updates(map[string]any{"deleted_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Where("code_id = ?", id).Delete(&GroupCodeChat{}).Error
	})
}

// GetGroupCode returns a live code of corp.
func (s *Store) GetGroupCode(ctx context.Context, corpID string, id uint64) (*GroupCode, error) {
	var c GroupCode
	err := s.db.WithContext(ctx).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).First(&c).Error
	return &c, notFound(err, "group code")
}

// GroupCodeBySlug returns a live code by its landing slug.
func (s *Store) GroupCodeBySlug(ctx context.Context, slug string) (*GroupCode, error) {
	var c GroupCode
	err := s.db.WithContext(ctx).Where("slug = ? AND deleted_at IS NULL", slug).First(&c).Error
	return &c, notFound(err, "group code")
}

// GroupCodeByState returns a live code by its join way state.
func (s *Store) GroupCodeByState(ctx context.Context, corpID, state string) (*GroupCode, error) {
	var c GroupCode
	err := s.db.WithContext(ctx).Where("corp_id = ? AND state = ? AND deleted_at IS NULL", corpID, state).First(&c).Error
	return &c, notFound(err, "group code")
}

// GroupCodeFilter selects codes for the admin API and the reconcile.
type GroupCodeFilter struct {
	CorpID     string
	Q          string
	AutoCreate bool // only codes that let WeCom create groups
	AfterID    uint64
	Limit      int
}

// ListGroupCodes returns live codes by id.
func (s *Store) ListGroupCodes(ctx context.Context, f GroupCodeFilter) ([]GroupCode, error) {
	q := s.db.WithContext(ctx).Where("deleted_at IS NULL")
	if f.CorpID != "" {
		q = q.Where("corp_id = ?", f.CorpID)
	}
	if f.Q != "" {
		q = q.Where("name LIKE ?", "%"+escapeLike(f.Q)+"%")
	}
	if f.AutoCreate {
		q = q.Where("auto_create = ?", true)
	}
	if f.AfterID > 0 {
		q = q.Where("id > ?", f.AfterID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []GroupCode
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list group codes: %w", err)
	}
	return out, nil
}

// GroupCodePool returns a code's pool in order.
func (s *Store) GroupCodePool(ctx context.Context, codeID uint64) ([]GroupCodeChat, error) {
	var out []GroupCodeChat
	if err := s.db.WithContext(ctx).Where("code_id = ?", codeID).Order("position, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read pool of group code %d: %w", codeID, err)
	}
	return out, nil
}

// PooledChats returns which of chatIDs already belong to a pool, by chat id.
func (s *Store) PooledChats(ctx context.Context, corpID string, chatIDs []string) (map[string]uint64, error) {
	out := map[string]uint64{}
	if len(chatIDs) == 0 {
		return out, nil
	}
	var rows []GroupCodeChat
	if err := s.db.WithContext(ctx).Where("corp_id = ? AND chat_id IN ?", corpID, chatIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read pooled chats: %w", err)
	}
	for _, r := range rows {
		out[r.ChatID] = r.CodeID
	}
	return out, nil
}

// PoolChat returns the pool row of a chat, if any code holds it.
func (s *Store) PoolChat(ctx context.Context, corpID, chatID string) (*GroupCodeChat, error) {
	var r GroupCodeChat
	err := s.db.WithContext(ctx).Where("corp_id = ? AND chat_id = ?", corpID, chatID).First(&r).Error
	return &r, notFound(err, "pooled chat")
}

// AdoptGroupChat appends a chat WeCom created for a code (auto_create_room)
// to the end of its pool. A chat that is already pooled is left alone.
func (s *Store) AdoptGroupChat(ctx context.Context, p GroupCodeChat) (bool, error) {
	now := s.Now()
	adopted := false
	err := retryable(func() error {
		adopted = false
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Model(&GroupCodeChat{}).Where("corp_id = ? AND chat_id = ?", p.CorpID, p.ChatID).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			var maxPos *int
			if err := tx.Model(&GroupCodeChat{}).Where("code_id = ?", p.CodeID).Select("MAX(position)").Scan(&maxPos).Error; err != nil {
				return err
			}
			p.Position, p.CreatedAt, p.AutoCreated = 0, now, true
			if maxPos != nil {
				p.Position = *maxPos + 1
			}
			err := tx.Create(&p).Error
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return nil
			}
			adopted = err == nil
			return err
		})
	})
	if err != nil {
		return false, fmt.Errorf("store: unable to adopt chat %s: %w", p.ChatID, err)
	}
	return adopted, nil
}

// ChatCounts is a group's membership as groupchat/get reported it.
type ChatCounts struct {
	Name          string
	Members       int
	Customers     int
	MemberVersion string
}

// SetGroupChatCounts stores a chat's counts read from WeCom.
func (s *Store) SetGroupChatCounts(ctx context.Context, corpID, chatID string, c ChatCounts) error {
	now := s.Now()
	return s.db.WithContext(ctx).Model(&GroupCodeChat{}).Where("corp_id = ? AND chat_id = ?", corpID, chatID).
		Updates(map[string]any{"name": truncate(c.Name, 128), "members": c.Members, "customers": c.Customers,
			"member_version": truncate(c.MemberVersion, 64), "dismissed": false, "refreshed_at": now}).Error
}

// MarkGroupChatDismissed records that a pooled chat no longer exists.
func (s *Store) MarkGroupChatDismissed(ctx context.Context, corpID, chatID string) (bool, error) {
	res := s.db.WithContext(ctx).Model(&GroupCodeChat{}).Where("corp_id = ? AND chat_id = ? AND dismissed = ?", corpID, chatID, false).
		Update("dismissed", true)
	if res.Error != nil {
		return false, fmt.Errorf("store: unable to mark chat %s dismissed: %w", chatID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// SetGroupCodeAlert records the problem an admin should see on a group code
// (a failed sync), until the next sync records its own.
func (s *Store) SetGroupCodeAlert(ctx context.Context, id uint64, alert string) error {
	err := s.db.WithContext(ctx).Model(&GroupCode{}).Where("id = ?", id).Update("alert", truncate(alert, 512)).Error
	if err != nil {
		return fmt.Errorf("store: unable to record the alert of group code %d: %w", id, err)
	}
	return nil
}

// SetGroupCodeSync records what the join way now lists and whether the
// pool ran dry.
func (s *Store) SetGroupCodeSync(ctx context.Context, id uint64, chatList string, dry bool, alert string, reconciled bool) error {
	now := s.Now()
	upd := map[string]any{"chat_list": chatList, "dry": dry, "alert": truncate(alert, 512), "synced_at": now}
	if reconciled {
		upd["reconciled_at"] = now
	}
	if err := s.db.WithContext(ctx).Model(&GroupCode{}).Where("id = ?", id).Updates(upd).Error; err != nil {
		return fmt.Errorf("store: unable to record sync of group code %d: %w", id, err)
	}
	return nil
}

// MemberChange is one member joining or leaving, as the service resolved it.
type MemberChange struct {
	MemberID string
	Name     string // for a contact made from a join
	State    string // the join way state the member came through
	// Attributed joins through one of our codes become (or extend) a
	// contact with a timeline entry.
	Attributed  bool
	GroupCodeID uint64
	StoreCodeID uint64
	StoreID     uint64
	// External: groupchat/get lists the member as a customer. Each new
	// join of one emits group.joined with the change.
	External  bool
	JoinScene int       // groupchat/get's: 1 invited, 2 by link, 3 by QR code; 0 unknown
	JoinedAt  time.Time // groupchat/get's join_time; zero: the change's At
}

// ChatChange is everything one change_external_chat/update applies.
type ChatChange struct {
	CorpID  string
	EventID uint64
	ChatID  string
	Kind    string // MemberJoin or MemberLeave
	Day     string
	At      time.Time
	Members []MemberChange
	// Counts, when set, are the chat's fresh counts from groupchat/get.
	Counts *ChatCounts
	// ChatName and Owner are the group's, for group.joined.
	ChatName, Owner string
	// Detail goes on each timeline entry.
	Detail string
	// Source is the contact source for a contact first seen in a group.
	Source string
	// Jobs are enqueued with the change (their keys make a re-run harmless).
	Jobs []*Job
	// JoinEvents are the webhook events of a customer's new join (outbox).
	JoinEvents func(m MemberChange) []OutboxEvent
}

// RecordChatChange applies a membership change once per member: a re-run
// event changes nothing again. It returns how many members were new.
func (s *Store) RecordChatChange(ctx context.Context, ch ChatChange) (int, error) {
	now := s.Now()
	fresh := 0
	err := retryable(func() error {
		fresh = 0
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if ch.Counts != nil {
				if err := tx.Model(&GroupCodeChat{}).Where("corp_id = ? AND chat_id = ?", ch.CorpID, ch.ChatID).
					Updates(map[string]any{"name": truncate(ch.Counts.Name, 128), "members": ch.Counts.Members,
						"customers": ch.Counts.Customers, "member_version": truncate(ch.Counts.MemberVersion, 64),
						"dismissed": false, "refreshed_at": now}).Error; err != nil {
					return err
				}
			}
			marked := false
			for _, m := range ch.Members {
				row := ChatMemberEvent{CorpID: ch.CorpID, EventID: ch.EventID, MemberID: truncate(m.MemberID, 64), Kind: ch.Kind,
					ChatID: ch.ChatID, State: truncate(m.State, 64), GroupCodeID: m.GroupCodeID, StoreCodeID: m.StoreCodeID,
					StoreID: m.StoreID, Day: ch.Day, At: ch.At}
				res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected == 0 {
					continue
				}
				fresh++
				// The member row above makes this once per join, however
				// often WeCom resends the event or the handler re-runs.
				if ch.Kind == MemberJoin && m.External && ch.JoinEvents != nil {
					if err := s.emit(tx, ch.JoinEvents(m)...); err != nil {
						return err
					}
				}
				if !m.Attributed {
					continue
				}
				contactID, err := s.contactFor(tx, ch, m, now)
				if err != nil || contactID == 0 {
					return err
				}
				kind := "joined_group"
				if ch.Kind == MemberLeave {
					kind = "left_group"
				}
				codeID := m.GroupCodeID
				if codeID == 0 {
					codeID = m.StoreCodeID
				}
				entry := TimelineEntry{CorpID: ch.CorpID, ContactID: contactID, At: ch.At, Kind: kind, CodeID: codeID,
					Detail: truncate(ch.Detail, 1024)}
				if !marked && ch.EventID > 0 {
					// (event, kind) is unique: only the first member of an
					// event carries it; the member rows above guard the rest.
					ev := ch.EventID
					entry.EventID = &ev
					marked = true
				}
				if err := tx.Create(&entry).Error; err != nil && !errors.Is(err, gorm.ErrDuplicatedKey) {
					return err
				}
			}
			return enqueueJobs(tx, now, ch.Jobs)
		})
	})
	if err != nil {
		return 0, fmt.Errorf("store: unable to record group change: %w", err)
	}
	return fresh, nil
}

// contactFor finds the contact of a joining member, making one for a join
// (a customer may join a group before adding anyone). A leave of someone
// we never knew makes none and returns 0.
func (s *Store) contactFor(tx *gorm.DB, ch ChatChange, m MemberChange, now time.Time) (uint64, error) {
	var c Contact
	err := tx.Where("corp_id = ? AND external_user_id = ?", ch.CorpID, m.MemberID).First(&c).Error
	if err == nil {
		return c.ID, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return 0, err
	}
	if ch.Kind != MemberJoin {
		return 0, nil
	}
	c = Contact{CorpID: ch.CorpID, ExternalUserID: truncate(m.MemberID, 64), Name: truncate(m.Name, 128), Source: ch.Source,
		State: truncate(m.State, 64), FirstSeenAt: ch.At, UpdatedAt: now}
	err = tx.Create(&c).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = tx.Where("corp_id = ? AND external_user_id = ?", ch.CorpID, m.MemberID).First(&c).Error
	}
	return c.ID, err
}

// ChatDayCount is the number of joins or leaves of one chat on one day.
type ChatDayCount struct {
	ChatID  string
	StoreID uint64
	Day     string
	Kind    string
	Count   int
}

// GroupCodeMemberCounts returns a group code's joins and leaves per chat
// and day between two days (inclusive).
func (s *Store) GroupCodeMemberCounts(ctx context.Context, codeID uint64, from, to string) ([]ChatDayCount, error) {
	var out []ChatDayCount
	err := s.db.WithContext(ctx).Model(&ChatMemberEvent{}).
		Select("chat_id, day, kind, COUNT(*) AS count").
		Where("group_code_id = ? AND day >= ? AND day <= ?", codeID, from, to).
		Group("chat_id, day, kind").Order("day, chat_id, kind").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to count group members: %w", err)
	}
	return out, nil
}

// StoreCodeJoinCounts returns a store code's joins per store and day.
func (s *Store) StoreCodeJoinCounts(ctx context.Context, codeID uint64, from, to string) ([]ChatDayCount, error) {
	var out []ChatDayCount
	err := s.db.WithContext(ctx).Model(&ChatMemberEvent{}).
		Select("store_id, day, kind, COUNT(*) AS count").
		Where("store_code_id = ? AND kind = ? AND day >= ? AND day <= ?", codeID, MemberJoin, from, to).
		Group("store_id, day, kind").Order("day, store_id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to count store joins: %w", err)
	}
	return out, nil
}
