package channelcode

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/livecode"
)

// ErrNobodyOnDuty is returned by Pick when no staff member or backup is
// eligible for a precise-mode code right now.
var ErrNobodyOnDuty = errors.New("nobody is on duty for this code right now")

// Assignment is the staff member a precise-mode landing page shows.
type Assignment struct {
	CodeID   uint64 `json:"code_id"`
	CodeName string `json:"code_name"`
	UserID   string `json:"userid"`
	QRCode   string `json:"qr_code"`
	Backup   bool   `json:"backup,omitempty"`
}

// pickHold is how long a landing-page pick counts toward the staff member's
// cap without the customer's add: long enough to scan the code shown, short
// enough that visitors who never scan cannot use a cap up.
const pickHold = 5 * time.Minute

// Pick chooses the next staff member of a precise-mode code by its strategy
// among those eligible, and holds the pick for pickHold: it counts toward
// their daily cap until that customer's add arrives (and counts as the add)
// or the hold runs out. Caps are exact because picks are serialized per code
// (row lock), not left to WeCom's random choice.
//
// The visitors who arrive while a code's picks are being written wait and
// are picked together in the next transaction, one after another under the
// same lock, so a crowd at one poster costs one commit a group rather than
// one a visitor.
func (cc *ChannelCodes) Pick(ctx context.Context, slug string) (*Assignment, error) {
	codeID, err := cc.preciseCode(ctx, slug)
	if err != nil {
		return nil, err
	}
	req := &pickRequest{done: make(chan struct{})}
	if cc.picks.enqueue(codeID, req) {
		// Not this visitor's goroutine: the writer serves whoever arrives
		// meanwhile, and this visitor's answer is not held up by them.
		go cc.pickGroups(codeID)
	}
	select {
	case <-req.done:
		return req.out, req.err
	case <-ctx.Done():
		return nil, ctx.Err() // its hold, if made, runs out unused
	}
}

// preciseCode is the id of the precise-mode code with slug.
func (cc *ChannelCodes) preciseCode(ctx context.Context, slug string) (uint64, error) {
	if id, ok := cc.slugs.Load(slug); ok {
		return id.(uint64), nil
	}
	code, err := cc.store.ChannelCodeBySlug(ctx, slug)
	if err != nil {
		return 0, err
	}
	if code.Mode != ModePrecise {
		return 0, model.ErrNotFound
	}
	cc.slugs.Store(slug, code.ID)
	return code.ID, nil
}

// pickRequest is one visitor waiting for a pick.
type pickRequest struct {
	done chan struct{}
	out  *Assignment
	err  error
}

// pickQueue holds, per code, the visitors waiting for the transaction in
// progress to end; the caller that finds a code idle writes its picks
// until nobody waits.
type pickQueue struct {
	mu      sync.Mutex
	waiting map[uint64][]*pickRequest
	busy    map[uint64]bool
}

// enqueue adds r to the code's queue and reports whether the caller is to
// write the code's picks (nobody else is).
func (q *pickQueue) enqueue(codeID uint64, r *pickRequest) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting == nil {
		q.waiting, q.busy = map[uint64][]*pickRequest{}, map[uint64]bool{}
	}
	q.waiting[codeID] = append(q.waiting[codeID], r)
	if q.busy[codeID] {
		return false
	}
	q.busy[codeID] = true
	return true
}

// take hands over the code's waiting visitors, or marks it idle when there
// are none.
func (q *pickQueue) take(codeID uint64) []*pickRequest {
	q.mu.Lock()
	defer q.mu.Unlock()
	group := q.waiting[codeID]
	delete(q.waiting, codeID)
	if len(group) == 0 {
		delete(q.busy, codeID)
	}
	return group
}

// maxPickGroup bounds the visitors picked in one transaction.
const maxPickGroup = 256

// pickGroups writes the code's picks, a group a transaction, until nobody
// waits.
func (cc *ChannelCodes) pickGroups(codeID uint64) {
	for {
		group := cc.picks.take(codeID)
		if len(group) == 0 {
			return
		}
		for len(group) > 0 {
			n := min(len(group), maxPickGroup)
			cc.pickGroup(codeID, group[:n])
			group = group[n:]
		}
	}
}

// pickGroup picks for each visitor of group in turn under the code's lock,
// in one transaction: each pick sees the holds of those before it.
func (cc *ChannelCodes) pickGroup(codeID uint64, group []*pickRequest) {
	// The visitors' own contexts may end; the group's transaction is
	// everyone's, so it runs on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cc.store.LockChannelCode(ctx, codeID, func(c *model.ChannelCode, counts func(string, time.Time) (map[string]int, error), hold func(string, string, time.Time) error) error {
		s, err := decodeCode(c)
		if err != nil {
			return err
		}
		now := cc.clock.Now()
		day := s.roster.LocalDay(now)
		n, err := counts(day, now)
		if err != nil {
			return err
		}
		last := c.LastPick
		for _, r := range group {
			r.out, r.err = nil, nil // the transaction may run again
			e := s.roster.Eligible(now, n)
			uid := s.roster.Pick(livecode.Strategy(c.Strategy), e, n, last)
			if uid == "" {
				r.err = ErrNobodyOnDuty
				continue
			}
			way, ok := s.memberWays[uid]
			if !ok {
				r.err = errors.New("no contact way for " + uid + "; edit the roster to recreate it")
				continue
			}
			if err := hold(day, uid, now.Add(pickHold)); err != nil {
				return err
			}
			n[uid]++
			last = uid
			r.out = &Assignment{CodeID: c.ID, CodeName: c.Name, UserID: uid, QRCode: way.QRCode, Backup: e.UsingBackups}
		}
		return nil
	})
	for _, r := range group {
		if err != nil {
			r.out, r.err = nil, err
		}
		close(r.done)
	}
}
