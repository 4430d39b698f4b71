package queue

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

// EventStore is what the inbox and dispatcher need from the database.
type EventStore interface {
	InsertEvents(ctx context.Context, events []*model.Event) ([]bool, error)
	ClaimEvents(ctx context.Context, owner string, lease time.Duration, n int) ([]model.Event, error)
	FinishEvents(ctx context.Context, owner string, outs []model.Outcome) (lost []error, err error)
	RetryEvent(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	DeferEvent(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	ReleaseEvents(ctx context.Context, owner string) (int64, error)
	RecoverExpiredEvents(ctx context.Context) (int64, error)
	RenewEventLeases(ctx context.Context, owner string, ids []uint64, lease time.Duration) (int64, error)
}

// maxGroupCommit bounds the callbacks stored in one transaction.
const maxGroupCommit = 256

// Inbox stores callbacks durably before they are acknowledged. Callbacks
// that arrive while a commit is in flight are stored together in the next
// one (group commit): one transaction and one fsync for many callbacks,
// with no added wait when they arrive one at a time.
type Inbox struct {
	writes *GroupCommit[*model.Event, bool]
}

// NewInbox returns an inbox that wakes notify after new events are stored.
func NewInbox(store EventStore, notify func()) *Inbox {
	if notify == nil {
		notify = func() {}
	}
	return &Inbox{writes: NewGroupCommit(maxGroupCommit, func(ctx context.Context, rows []*model.Event) ([]bool, error) {
		inserted, err := store.InsertEvents(ctx, rows)
		for _, ok := range inserted {
			if ok {
				notify()
				break
			}
		}
		return inserted, err
	})}
}

// Accept stores an event under its dedupe key. A repeat of a stored event
// changes nothing and reports duplicate. Only a nil error allows the caller
// to acknowledge the callback: a failed commit fails every callback in it,
// and only those. A caller that gives up may still have its event stored;
// WeCom's resend is then a duplicate.
func (in *Inbox) Accept(ctx context.Context, corpID string, ev *wecom.Event, plain []byte) (duplicate bool, err error) {
	inserted, err := in.writes.Do(ctx, &model.Event{
		CorpID:         corpID,
		DedupeKey:      ev.DedupeKey(),
		Type:           Clip(ev.Type(), 96),
		OrderKey:       orderKey(ev),
		UserID:         Clip(ev.UserID, 64),
		ExternalUserID: Clip(ev.ExternalUserID, 64),
		ChatID:         Clip(ev.ChatID, 64),
		State:          Clip(ev.State, 64),
		Payload:        string(plain),
		Lane:           eventLane(ev),
	})
	if err != nil {
		return false, err
	}
	return !inserted, nil
}

// eventLane puts an add with a welcome code in the deadline lane: its
// welcome must go within WeCom's 20 s, so it is claimed ahead of other
// events on every replica.
func eventLane(ev *wecom.Event) int {
	if ev.Event == wecom.EventExternalContact && ev.WelcomeCode != "" &&
		(ev.ChangeType == wecom.ChangeAddContact || ev.ChangeType == wecom.ChangeAddHalfContact) {
		return model.LaneDeadline
	}
	return 0
}

// orderKey groups events that must be handled in order of arrival: those of
// one external contact, of one group chat, of one tag.
func orderKey(ev *wecom.Event) string {
	switch {
	case ev.ExternalUserID != "":
		return Clip("c:"+ev.ExternalUserID, 128)
	case ev.ChatID != "":
		return Clip("g:"+ev.ChatID, 128)
	case ev.Event == wecom.EventExternalTag && ev.ID != "":
		return Clip("t:"+ev.ID, 128)
	}
	return ""
}

// Clip cuts s to at most n bytes without splitting a character (for ids,
// error texts and reasons kept in a column).
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
