package model

import (
	"context"

	"fmt"

	"gorm.io/gorm"
)

// LeadRules is what a lead's activity is scored and ruled by: the corp's
// scoring config and its live tag rules. It is shared: callers must not
// change it.
type LeadRules struct {
	// Scoring is the config's JSON; HasScoring is false for the defaults.
	Scoring        string
	ScoringVersion int
	HasScoring     bool
	// Rules are the live rules in priority order (enabled or not).
	Rules []TagRule
}

// LeadRules returns the corp's scoring config and tag rules from memory
// (pollCache), so that a scan's lead activity reads neither: a change made
// here clears them after its commit, one made by another replica is seen
// within a second.
func (s *Store) LeadRules(ctx context.Context, corpID string) (*LeadRules, error) {
	db := s.db.WithContext(ctx)
	return s.leadRules.get(corpID, func() (string, error) { return leadRulesVersion(db) }, func() (*LeadRules, error) {
		lr := &LeadRules{}
		var c ScoringConfig
		err := db.Where("corp_id = ?", corpID).Limit(1).Find(&c).Error
		if err != nil {
			return nil, fmt.Errorf("store: unable to read scoring config: %w", err)
		}
		if c.CorpID != "" {
			lr.Scoring, lr.ScoringVersion, lr.HasScoring = c.Config, c.Version, true
		}
		if lr.Rules, err = s.ListTagRules(ctx, corpID); err != nil {
			return nil, err
		}
		return lr, nil
	})
}

// leadRulesChanged is called after a committed change to scoring_configs
// or tag_rules.
func (s *Store) leadRulesChanged() { s.leadRules.clear() }

// leadRulesVersion is a cheap fingerprint of scoring_configs and tag_rules
// that moves with every change to either: a scoring config's version rises
// with each save, and every write to a rule (deletion included) sets its
// updated_at.
func leadRulesVersion(db *gorm.DB) (string, error) {
	var v struct {
		Configs, Versions, Rules, Deleted int64
		Last                              *string
	}
	err := db.Raw(`SELECT (SELECT COUNT(*) FROM scoring_configs) AS configs,
		(SELECT COALESCE(SUM(version), 0) FROM scoring_configs) AS versions,
		(SELECT COUNT(*) FROM tag_rules) AS rules, (SELECT COUNT(deleted_at) FROM tag_rules) AS deleted,
		(SELECT CAST(MAX(updated_at) AS CHAR) FROM tag_rules) AS last`).Scan(&v).Error
	if err != nil {
		return "", fmt.Errorf("store: unable to read the lead rules' version: %w", err)
	}
	last := ""
	if v.Last != nil {
		last = *v.Last
	}
	return fmt.Sprintf("%d/%d/%d/%d/%s", v.Configs, v.Versions, v.Rules, v.Deleted, last), nil
}
