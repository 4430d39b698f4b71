package lead

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

// Lead stages.
const (
	StageRaw       = "raw"
	StageMQL       = "mql"
	StageSQL       = "sql"
	StageHandedOff = "handed_off"
	StageAccepted  = "accepted"
	StageRejected  = "rejected"
	StageNurturing = "nurturing"
	StageWon       = "won"
	StageLost      = "lost"
)

// Stages in funnel order.
var Stages = []string{StageRaw, StageMQL, StageSQL, StageHandedOff, StageAccepted, StageWon, StageRejected, StageNurturing, StageLost}

// ValidStage reports whether s is a stage.
func ValidStage(s string) bool {
	for _, st := range Stages {
		if st == s {
			return true
		}
	}
	return false
}

// ScoringConfig sets the points and thresholds (PUT /api/v1/scoring).
type ScoringConfig struct {
	BANT                map[string]int `json:"bant"`           // points when the field is yes
	AddedViaCode        int            `json:"added_via_code"` // per add through one of our codes (first only)
	JoinedGroup         int            `json:"joined_group"`   // per group joined (first only)
	TagDefault          int            `json:"tag_default"`    // points per tag without its own entry
	Tags                map[string]int `json:"tags,omitempty"` // points by tag name
	RecencyMax          int            `json:"recency_max"`    // points for activity today, halving every RecencyHalfLife days
	RecencyHalfLifeDays float64        `json:"recency_half_life_days"`
	MQL                 int            `json:"mql_threshold"`
	SQL                 int            `json:"sql_threshold"`
	// SQLOnBANT qualifies a lead as SQL when at least 3 of the 4 BANT fields
	// are yes, whatever its score.
	SQLOnBANT bool `json:"sql_on_bant"`
}

// DefaultScoring is used until a corp sets its own.
func DefaultScoring() ScoringConfig {
	return ScoringConfig{
		BANT:         map[string]int{"budget": 15, "authority": 15, "need": 20, "timeline": 10},
		AddedViaCode: 10, JoinedGroup: 10, TagDefault: 5, RecencyMax: 10, RecencyHalfLifeDays: 14,
		MQL: 30, SQL: 60, SQLOnBANT: true,
	}
}

// Validate checks a scoring config.
func (c ScoringConfig) Validate() error {
	for _, f := range webhook.BANTFields {
		if _, ok := c.BANT[f]; !ok {
			return &apierr.ValidationError{Field: "bant." + f, Reason: "is required (points when the answer is yes)"}
		}
	}
	for k, v := range c.BANT {
		if !contains(webhook.BANTFields, k) {
			return &apierr.ValidationError{Field: "bant." + k, Reason: "is not a BANT field (budget, authority, need, timeline)"}
		}
		if v < 0 || v > 1000 {
			return &apierr.ValidationError{Field: "bant." + k, Reason: "must be between 0 and 1000"}
		}
	}
	// What a lead did or answered never counts against it; only a tag's own
	// entry may (a "competitor" tag, say).
	for _, f := range []struct {
		name string
		v    int
	}{{"added_via_code", c.AddedViaCode}, {"joined_group", c.JoinedGroup}, {"tag_default", c.TagDefault}, {"recency_max", c.RecencyMax}} {
		if f.v < 0 || f.v > 1000 {
			return &apierr.ValidationError{Field: f.name, Reason: "must be between 0 and 1000"}
		}
	}
	for t, v := range c.Tags {
		if t == "" || v < -1000 || v > 1000 {
			return &apierr.ValidationError{Field: "tags." + t, Reason: "needs a tag name and points between -1000 and 1000"}
		}
	}
	if c.RecencyHalfLifeDays <= 0 || c.RecencyHalfLifeDays > 365 {
		return &apierr.ValidationError{Field: "recency_half_life_days", Reason: "must be more than 0 and at most 365"}
	}
	if c.MQL <= 0 {
		return &apierr.ValidationError{Field: "mql_threshold", Reason: "must be positive"}
	}
	if c.SQL <= c.MQL {
		return &apierr.ValidationError{Field: "sql_threshold", Reason: "must be above mql_threshold"}
	}
	return nil
}

// ScoreInput is what a score is computed from.
type ScoreInput struct {
	BANT           webhook.BANT
	Behaviour      webhook.Behaviour
	Tags           []string
	RulePoints     map[string]int // rule name → points its actions granted
	LastActivityAt time.Time
}

// Score computes a lead's score and its breakdown, line by line, so anyone
// can read why a lead has the score it has.
func (c ScoringConfig) Score(in ScoreInput, now time.Time) (int, []webhook.ScoreLine) {
	var lines []webhook.ScoreLine
	add := func(points int, format string, args ...any) {
		if points != 0 {
			lines = append(lines, webhook.ScoreLine{Reason: fmt.Sprintf(format, args...), Points: points})
		}
	}
	for _, f := range webhook.BANTFields {
		if in.BANT[f].Value == webhook.BANTYes {
			add(c.BANT[f], "BANT %s: yes", f)
		}
	}
	if in.Behaviour.Adds > 0 {
		add(c.AddedViaCode, "added via a live code")
	}
	if in.Behaviour.GroupsJoined > 0 {
		add(c.JoinedGroup, "joined a customer group")
	}
	tags := append([]string(nil), in.Tags...)
	sort.Strings(tags)
	for _, t := range tags {
		p, ok := c.Tags[t]
		if !ok {
			p = c.TagDefault
		}
		add(p, "tag %s", t)
	}
	rules := make([]string, 0, len(in.RulePoints))
	for r := range in.RulePoints {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		add(in.RulePoints[r], "rule %s", r)
	}
	if !in.LastActivityAt.IsZero() && c.RecencyMax != 0 {
		days := now.Sub(in.LastActivityAt).Hours() / 24
		if days < 0 {
			days = 0
		}
		p := int(math.Round(float64(c.RecencyMax) * math.Pow(0.5, days/c.RecencyHalfLifeDays)))
		add(p, "recency: last activity %.0f days ago", math.Floor(days))
	}
	total := 0
	for _, l := range lines {
		total += l.Points
	}
	if lines == nil {
		lines = []webhook.ScoreLine{}
	}
	return total, lines
}

// Qualify returns the stage a lead's score and BANT earn it from its current
// stage, or "" when it stays. Only raw, nurturing and MQL leads move up by
// score; leads with sales (handed off and after) are not touched.
func (c ScoringConfig) Qualify(stage string, score int, bant webhook.BANT, floor *int) (string, string) {
	if stage == StageNurturing && floor != nil && score <= *floor {
		return "", ""
	}
	sql := score >= c.SQL
	reason := fmt.Sprintf("score %d reached the SQL threshold %d", score, c.SQL)
	if !sql && c.SQLOnBANT && bant.Yes() >= 3 {
		sql, reason = true, fmt.Sprintf("%d of 4 BANT fields are yes", bant.Yes())
	}
	switch stage {
	case StageRaw, StageNurturing, StageMQL:
		if sql {
			return StageSQL, reason
		}
		if stage != StageMQL && score >= c.MQL {
			return StageMQL, fmt.Sprintf("score %d reached the MQL threshold %d", score, c.MQL)
		}
	}
	return "", ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
