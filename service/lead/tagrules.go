package lead

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// Rule triggers: the lead events a tag rule can react to.
const (
	TriggerContactAdded = "contact_added"
	TriggerJoinedGroup  = "joined_group"
	TriggerLeftGroup    = "left_group"
	TriggerLost         = "lost"
	TriggerStageChanged = "stage_changed"
	TriggerFieldChanged = "field_changed"
)

var triggers = []string{TriggerContactAdded, TriggerJoinedGroup, TriggerLeftGroup, TriggerLost, TriggerStageChanged, TriggerFieldChanged}

// RuleConditions must all hold for a rule to fire. Empty means "any".
type RuleConditions struct {
	CodeIDs  []uint64 `json:"code_ids,omitempty"`  // source channel codes
	StoreIDs []uint64 `json:"store_ids,omitempty"` // source stores
	ChatIDs  []string `json:"chat_ids,omitempty"`  // the group joined or left
	Weekdays []int    `json:"weekdays,omitempty"`  // 0=Sunday, in TimeZone
	Start    string   `json:"start,omitempty"`     // "HH:MM" window in TimeZone
	End      string   `json:"end,omitempty"`       // exclusive; before Start crosses midnight
	TimeZone string   `json:"time_zone,omitempty"` // default Asia/Shanghai
	TagsAll  []string `json:"tags_all,omitempty"`  // the lead has every one
	TagsNone []string `json:"tags_none,omitempty"` // the lead has none of them
	CorpName *bool    `json:"corp_name_set,omitempty"`
	Gender   *int     `json:"gender,omitempty"` // 0 unknown, 1 male, 2 female
	MinScore *int     `json:"min_score,omitempty"`
	MaxScore *int     `json:"max_score,omitempty"`
	ToStage  string   `json:"to_stage,omitempty"` // stage_changed: the new stage
	Field    string   `json:"field,omitempty"`    // field_changed: which field
}

// RuleActions are applied, in this order, when a rule fires.
type RuleActions struct {
	AddTags    []string                      `json:"add_tags,omitempty"`
	RemoveTags []string                      `json:"remove_tags,omitempty"`
	ScoreDelta int                           `json:"score_delta,omitempty"`
	SetBANT    map[string]webhook.BANTAnswer `json:"set_bant,omitempty"`
}

// TagRuleSpec is a rule as the API reads and writes it.
type TagRuleSpec struct {
	ID         uint64         `json:"id,omitempty"`
	Name       string         `json:"name"`
	Priority   int            `json:"priority"`
	Enabled    *bool          `json:"enabled,omitempty"`
	Trigger    string         `json:"trigger"`
	Conditions RuleConditions `json:"conditions"`
	Actions    RuleActions    `json:"actions"`
	CreatedAt  wire.Timestamp `json:"created_at,omitempty"`
	UpdatedAt  wire.Timestamp `json:"updated_at,omitempty"`
}

// RuleEvent is what happened to a lead, as rules see it.
type RuleEvent struct {
	Trigger string
	Key     string // identifies the triggering event (idempotency)
	At      time.Time
	CodeID  uint64
	StoreID uint64
	ChatID  string
	ToStage string
	Field   string
}

// ruleLead is the lead state conditions read.
type ruleLead struct {
	Tags     map[string]bool
	CorpName string
	Gender   int
	Score    int
}

// validate checks a spec; knownTag reports whether a tag exists in the corp
// catalogue.
func (r *TagRuleSpec) validate(knownTag func(string) bool) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &apierr.ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(r.Name)); n == 0 || n > 128 {
		bad("name", "must be 1 to 128 characters")
	}
	if !contains(triggers, r.Trigger) {
		bad("trigger", "must be one of %s", strings.Join(triggers, ", "))
	}
	c := r.Conditions
	for _, d := range c.Weekdays {
		if d < 0 || d > 6 {
			bad("conditions.weekdays", "days are 0 (Sunday) to 6")
		}
	}
	if (c.Start == "") != (c.End == "") {
		bad("conditions.start", "give both start and end, or neither")
	} else if c.Start != "" {
		s, ok1 := livecode.ParseClock(c.Start, false)
		e, ok2 := livecode.ParseClock(c.End, true)
		switch {
		case !ok1:
			bad("conditions.start", "must be HH:MM")
		case !ok2:
			bad("conditions.end", "must be HH:MM")
		case s == e:
			bad("conditions.end", "an empty window can never match")
		}
	}
	if c.TimeZone != "" {
		if _, err := livecode.LoadZone(c.TimeZone); err != nil || c.TimeZone == "Local" {
			bad("conditions.time_zone", "must be an IANA time zone such as Asia/Shanghai")
		}
	}
	for i, t := range c.TagsAll {
		if !knownTag(t) {
			bad(fmt.Sprintf("conditions.tags_all[%d]", i), "unknown tag %q (not in the corp's tag catalogue)", t)
		}
		if contains(c.TagsNone, t) {
			bad(fmt.Sprintf("conditions.tags_all[%d]", i), "tag %q is required both present and absent: the rule can never match", t)
		}
	}
	for i, t := range c.TagsNone {
		if !knownTag(t) {
			bad(fmt.Sprintf("conditions.tags_none[%d]", i), "unknown tag %q (not in the corp's tag catalogue)", t)
		}
	}
	if c.Gender != nil && (*c.Gender < 0 || *c.Gender > 2) {
		bad("conditions.gender", "must be 0 (unknown), 1 (male) or 2 (female)")
	}
	if c.MinScore != nil && c.MaxScore != nil && *c.MinScore > *c.MaxScore {
		bad("conditions.min_score", "is above max_score: the rule can never match")
	}
	if c.ToStage != "" && (!ValidStage(c.ToStage) || r.Trigger != TriggerStageChanged) {
		bad("conditions.to_stage", "needs trigger stage_changed and a known stage")
	}
	if c.Field != "" && r.Trigger != TriggerFieldChanged {
		bad("conditions.field", "needs trigger field_changed")
	}
	if len(c.ChatIDs) > 0 && r.Trigger != TriggerJoinedGroup && r.Trigger != TriggerLeftGroup {
		bad("conditions.chat_ids", "needs trigger joined_group or left_group")
	}
	a := r.Actions
	if len(a.AddTags) == 0 && len(a.RemoveTags) == 0 && a.ScoreDelta == 0 && len(a.SetBANT) == 0 {
		bad("actions", "a rule needs at least one action")
	}
	for i, t := range a.AddTags {
		if !knownTag(t) {
			bad(fmt.Sprintf("actions.add_tags[%d]", i), "unknown tag %q (not in the corp's tag catalogue)", t)
		}
		if contains(a.RemoveTags, t) {
			bad(fmt.Sprintf("actions.add_tags[%d]", i), "tag %q is both added and removed", t)
		}
	}
	for i, t := range a.RemoveTags {
		if !knownTag(t) {
			bad(fmt.Sprintf("actions.remove_tags[%d]", i), "unknown tag %q (not in the corp's tag catalogue)", t)
		}
	}
	if a.ScoreDelta < -1000 || a.ScoreDelta > 1000 {
		bad("actions.score_delta", "must be between -1000 and 1000")
	}
	for f, v := range a.SetBANT {
		if !contains(webhook.BANTFields, f) {
			bad("actions.set_bant."+f, "is not a BANT field (budget, authority, need, timeline)")
		}
		if v.Value != webhook.BANTYes && v.Value != webhook.BANTNo && v.Value != webhook.BANTUnknown {
			bad("actions.set_bant."+f+".value", "must be yes, no or unknown")
		}
	}
	return errors.Join(errs...)
}

// matches reports whether the rule fires for this event on this lead.
func (r *TagRuleSpec) matches(ev RuleEvent, l ruleLead) bool {
	c := r.Conditions
	if r.Trigger != ev.Trigger {
		return false
	}
	if len(c.CodeIDs) > 0 && !containsID(c.CodeIDs, ev.CodeID) {
		return false
	}
	if len(c.StoreIDs) > 0 && !containsID(c.StoreIDs, ev.StoreID) {
		return false
	}
	if len(c.ChatIDs) > 0 && !contains(c.ChatIDs, ev.ChatID) {
		return false
	}
	loc := time.UTC
	if l, err := livecode.LoadZone(orDefault(c.TimeZone, livecode.DefaultRosterTimeZone)); err == nil {
		loc = l
	}
	local := ev.At.In(loc)
	if len(c.Weekdays) > 0 {
		hit := false
		for _, d := range c.Weekdays {
			hit = hit || time.Weekday(d) == local.Weekday()
		}
		if !hit {
			return false
		}
	}
	if c.Start != "" && !livecode.InWindow(nil, c.Start, c.End, local) {
		return false
	}
	for _, t := range c.TagsAll {
		if !l.Tags[t] {
			return false
		}
	}
	for _, t := range c.TagsNone {
		if l.Tags[t] {
			return false
		}
	}
	if c.CorpName != nil && (*c.CorpName != (l.CorpName != "")) {
		return false
	}
	if c.Gender != nil && *c.Gender != l.Gender {
		return false
	}
	if c.MinScore != nil && l.Score < *c.MinScore {
		return false
	}
	if c.MaxScore != nil && l.Score > *c.MaxScore {
		return false
	}
	if c.ToStage != "" && c.ToStage != ev.ToStage {
		return false
	}
	if c.Field != "" && c.Field != ev.Field {
		return false
	}
	return true
}

func containsID(list []uint64, id uint64) bool {
	for _, v := range list {
		if v == id {
			return true
		}
	}
	return false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// TagRules manages tag rules.
type TagRules struct {
	store RuleStore
}

// NewTagRules builds the service.
func NewTagRules(store RuleStore) *TagRules { return &TagRules{store: store} }

func (tr *TagRules) knownTags(ctx context.Context, corpID string, spec *TagRuleSpec) (func(string) bool, error) {
	names := append(append(append(append([]string{}, spec.Conditions.TagsAll...), spec.Conditions.TagsNone...), spec.Actions.AddTags...), spec.Actions.RemoveTags...)
	known, err := tr.store.CorpTagsByName(ctx, corpID, names)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, t := range known {
		set[t.Name] = true
	}
	return func(n string) bool { return set[n] }, nil
}

// Save validates and stores a rule (create when spec.ID is 0).
func (tr *TagRules) Save(ctx context.Context, corpID string, spec TagRuleSpec) (*TagRuleSpec, error) {
	known, err := tr.knownTags(ctx, corpID, &spec)
	if err != nil {
		return nil, err
	}
	if err := spec.validate(known); err != nil {
		return nil, err
	}
	if err := tr.checkRefs(ctx, corpID, &spec.Conditions); err != nil {
		return nil, err
	}
	row := &model.TagRule{CorpID: corpID, Name: strings.TrimSpace(spec.Name), Priority: spec.Priority, Enabled: spec.Enabled == nil || *spec.Enabled, Trigger: spec.Trigger}
	if spec.ID != 0 {
		cur, err := tr.store.GetTagRule(ctx, corpID, spec.ID)
		if err != nil {
			return nil, err
		}
		row.ID, row.CreatedAt = cur.ID, cur.CreatedAt
	}
	c, _ := json.Marshal(spec.Conditions)
	a, _ := json.Marshal(spec.Actions)
	row.Conditions, row.Actions = string(c), string(a)
	if err := tr.store.SaveTagRule(ctx, row); err != nil {
		return nil, err
	}
	return ruleView(row)
}

// checkRefs refuses conditions on channel codes or stores the corp does not
// have (or has deleted): such a rule could never fire.
func (tr *TagRules) checkRefs(ctx context.Context, corpID string, c *RuleConditions) error {
	codes, err := tr.store.LiveChannelCodeIDs(ctx, corpID, c.CodeIDs)
	if err != nil {
		return err
	}
	for i, id := range c.CodeIDs {
		if !containsID(codes, id) {
			return &apierr.ValidationError{Field: fmt.Sprintf("conditions.code_ids[%d]", i), Reason: fmt.Sprintf("no channel code %d", id)}
		}
	}
	stores, err := tr.store.RetailStoresByID(ctx, corpID, c.StoreIDs)
	if err != nil {
		return err
	}
	live := make([]uint64, 0, len(stores))
	for _, st := range stores {
		live = append(live, st.ID)
	}
	for i, id := range c.StoreIDs {
		if !containsID(live, id) {
			return &apierr.ValidationError{Field: fmt.Sprintf("conditions.store_ids[%d]", i), Reason: fmt.Sprintf("no store %d", id)}
		}
	}
	return nil
}

// NamingTag lists the rules whose conditions or actions name the tag.
func (tr *TagRules) NamingTag(ctx context.Context, corpID, tag string) ([]string, error) {
	rules, err := tr.List(ctx, corpID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rules {
		c, a := r.Conditions, r.Actions
		if contains(c.TagsAll, tag) || contains(c.TagsNone, tag) || contains(a.AddTags, tag) || contains(a.RemoveTags, tag) {
			out = append(out, r.Name)
		}
	}
	return out, nil
}

// Get returns one rule.
func (tr *TagRules) Get(ctx context.Context, corpID string, id uint64) (*TagRuleSpec, error) {
	r, err := tr.store.GetTagRule(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	return ruleView(r)
}

// List returns a corp's rules in priority order.
func (tr *TagRules) List(ctx context.Context, corpID string) ([]*TagRuleSpec, error) {
	rows, err := tr.store.ListTagRules(ctx, corpID)
	if err != nil {
		return nil, err
	}
	out := make([]*TagRuleSpec, 0, len(rows))
	for i := range rows {
		v, err := ruleView(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Delete retires a rule.
func (tr *TagRules) Delete(ctx context.Context, corpID string, id uint64) error {
	return tr.store.DeleteTagRule(ctx, corpID, id)
}

func ruleView(r *model.TagRule) (*TagRuleSpec, error) {
	v := &TagRuleSpec{ID: r.ID, Name: r.Name, Priority: r.Priority, Enabled: &r.Enabled, Trigger: r.Trigger, CreatedAt: wire.At(r.CreatedAt), UpdatedAt: wire.At(r.UpdatedAt)}
	if err := json.Unmarshal([]byte(r.Conditions), &v.Conditions); err != nil {
		return nil, fmt.Errorf("tag rule %d: corrupt conditions: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Actions), &v.Actions); err != nil {
		return nil, fmt.Errorf("tag rule %d: corrupt actions: %w", r.ID, err)
	}
	return v, nil
}
