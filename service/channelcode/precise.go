package channelcode

import (
	"context"
	"errors"
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
func (cc *ChannelCodes) Pick(ctx context.Context, slug string) (*Assignment, error) {
	code, err := cc.store.ChannelCodeBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if code.Mode != ModePrecise {
		return nil, model.ErrNotFound
	}
	var out *Assignment
	err = cc.store.LockChannelCode(ctx, code.ID, func(c *model.ChannelCode, counts func(string, time.Time) (map[string]int, error), hold func(string, string, time.Time) error) error {
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
		e := s.roster.Eligible(now, n)
		uid := s.roster.Pick(livecode.Strategy(c.Strategy), e, n, c.LastPick)
		if uid == "" {
			return ErrNobodyOnDuty
		}
		way, ok := s.memberWays[uid]
		if !ok {
			return errors.New("no contact way for " + uid + "; edit the roster to recreate it")
		}
		if err := hold(day, uid, now.Add(pickHold)); err != nil {
			return err
		}
		out = &Assignment{CodeID: c.ID, CodeName: c.Name, UserID: uid, QRCode: way.QRCode, Backup: e.UsingBackups}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
