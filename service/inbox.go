package service

import (
	"context"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

// EventStore is what the inbox and dispatcher need from the database.
type EventStore interface {
	InsertEvents(ctx context.Context, events []*model.Event) ([]bool, error)
	ClaimEvents(ctx context.Context, owner string, lease time.Duration, n int) ([]model.Event, error)
	FinishEvent(ctx context.Context, id uint64, owner, status, reason string) error
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
	store  EventStore
	notify func()

	mu       sync.Mutex
	queue    []*inboxWrite
	flushing bool
}

// inboxWrite is one callback waiting for its commit.
type inboxWrite struct {
	row  *model.Event
	done chan inboxResult
}

type inboxResult struct {
	inserted bool
	err      error
}

// NewInbox returns an inbox that wakes notify after new events are stored.
func NewInbox(store EventStore, notify func()) *Inbox {
	if notify == nil {
		notify = func() {}
	}
	return &Inbox{store: store, notify: notify}
}

// Accept stores an event under its dedupe key. A repeat of a stored event
// changes nothing and reports duplicate. Only a nil error allows the caller
// to acknowledge the callback: a failed commit fails every callback in it,
// and only those.
func (in *Inbox) Accept(ctx context.Context, corpID string, ev *wecom.Event, plain []byte) (duplicate bool, err error) {
	w := &inboxWrite{row: &model.Event{
		CorpID:         corpID,
		DedupeKey:      ev.DedupeKey(),
		Type:           clip(ev.Type(), 96),
		OrderKey:       orderKey(ev),
		UserID:         clip(ev.UserID, 64),
		ExternalUserID: clip(ev.ExternalUserID, 64),
		ChatID:         clip(ev.ChatID, 64),
		State:          clip(ev.State, 64),
		Payload:        string(plain),
		Lane:           eventLane(ev),
	}, done: make(chan inboxResult, 1)}
	in.mu.Lock()
	in.queue = append(in.queue, w)
	lead := !in.flushing
	in.flushing = true
	in.mu.Unlock()
	if lead {
		go in.flush()
	}
	select {
	case r := <-w.done:
		return !r.inserted && r.err == nil, r.err
	case <-ctx.Done():
		// The row may still be committed; WeCom's resend is then a duplicate.
		return false, ctx.Err()
	}
}

// flush commits the queued callbacks batch by batch until none is left.
// Its context is its own: one caller giving up must not fail the others'
// writes.
func (in *Inbox) flush() {
	for {
		in.mu.Lock()
		n := min(len(in.queue), maxGroupCommit)
		if n == 0 {
			in.flushing = false
			in.mu.Unlock()
			return
		}
		batch := in.queue[:n:n]
		in.queue = in.queue[n:]
		if len(in.queue) == 0 {
			in.queue = nil
		}
		in.mu.Unlock()

		rows := make([]*model.Event, len(batch))
		for i, w := range batch {
			rows[i] = w.row
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		inserted, err := in.store.InsertEvents(ctx, rows)
		cancel()
		anyNew := false
		for i, w := range batch {
			r := inboxResult{err: err}
			if err == nil {
				r.inserted = inserted[i]
				anyNew = anyNew || inserted[i]
			}
			w.done <- r
		}
		if anyNew {
			in.notify()
		}
	}
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
		return clip("c:"+ev.ExternalUserID, 128)
	case ev.ChatID != "":
		return clip("g:"+ev.ChatID, 128)
	case ev.Event == wecom.EventExternalTag && ev.ID != "":
		return clip("t:"+ev.ID, 128)
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
