package service

import (
	"context"
	"errors"

	"github.com/leadgate/scrm-gateway/model"
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

// Pick chooses the next staff member of a precise-mode code by its strategy
// among those eligible, and counts the assignment toward their daily cap at
// once: caps are exact because picks are serialized per code (row lock), not
// left to WeCom's random choice.
func (cc *ChannelCodes) Pick(ctx context.Context, slug string) (*Assignment, error) {
	code, err := cc.store.ChannelCodeBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if code.Mode != ModePrecise {
		return nil, model.ErrNotFound
	}
	var out *Assignment
	err = cc.store.LockChannelCode(ctx, code.ID, func(c *model.ChannelCode, counts func(string) (map[string]int, error), reserve func(string, string) error) error {
		s, err := decodeCode(c)
		if err != nil {
			return err
		}
		now := cc.now()
		day := s.roster.LocalDay(now)
		n, err := counts(day)
		if err != nil {
			return err
		}
		e := s.roster.Eligible(now, n)
		uid := s.roster.Pick(Strategy(c.Strategy), e, n, c.LastPick)
		if uid == "" {
			return ErrNobodyOnDuty
		}
		way, ok := s.memberWays[uid]
		if !ok {
			return errors.New("no contact way for " + uid + "; edit the roster to recreate it")
		}
		if err := reserve(day, uid); err != nil {
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
