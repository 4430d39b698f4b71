package lead

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// Job kinds of the leads domain.
const (
	JobLeadActivity = "lead_activity"
	JobRescore      = "rescore"
)

func viewTransition(t *model.LeadTransition) *webhook.LeadTransition {
	return &webhook.LeadTransition{ID: t.ID, LeadID: t.LeadID, From: t.From, To: t.To, Reason: t.Reason, Actor: t.Actor,
		ActorID: t.ActorID, At: wire.At(t.At)}
}

// leadState is a lead's decoded JSON columns.
type leadState struct {
	source     webhook.LeadSource
	tags       []string
	bant       webhook.BANT
	behaviour  webhook.Behaviour
	rulePoints map[string]int
}

func decodeLead(l *model.Lead) (leadState, error) {
	st := leadState{bant: webhook.BANT{}, rulePoints: map[string]int{}, tags: []string{}}
	for _, f := range []struct {
		src string
		dst any
	}{{l.Source, &st.source}, {l.Tags, &st.tags}, {l.BANT, &st.bant}, {l.Behaviour, &st.behaviour}, {l.RulePoints, &st.rulePoints}} {
		if f.src == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return st, fmt.Errorf("lead %d: corrupt column: %w", l.ID, err)
		}
	}
	for _, f := range webhook.BANTFields {
		if st.bant[f].Value == "" {
			st.bant[f] = webhook.BANTAnswer{Value: webhook.BANTUnknown}
		}
	}
	return st, nil
}

func (st *leadState) encode(l *model.Lead) {
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	sort.Strings(st.tags)
	l.Source, l.Tags, l.BANT, l.Behaviour, l.RulePoints = enc(st.source), enc(st.tags), enc(st.bant), enc(st.behaviour), enc(st.rulePoints)
}

func ViewLead(l *model.Lead, tr []model.LeadTransition) (*webhook.Lead, error) {
	st, err := decodeLead(l)
	if err != nil {
		return nil, err
	}
	var lines []webhook.ScoreLine
	_ = json.Unmarshal([]byte(l.Breakdown), &lines)
	if lines == nil {
		lines = []webhook.ScoreLine{}
	}
	v := &webhook.Lead{ID: l.ID, CorpID: l.CorpID, ContactID: l.ContactID, ExternalUserID: l.ExternalUserID, UnionID: l.UnionID,
		Name: l.Name, CorpName: l.CorpName, Mobile: l.Mobile, MobileValid: l.MobileValid, Gender: l.Gender, Source: st.source,
		Owner: l.Owner, Tags: st.tags, BANT: st.bant, Behaviour: st.behaviour, Score: l.Score, Breakdown: lines, Stage: l.Stage,
		StageChangedAt: wire.At(l.StageChangedAt), LastActivityAt: wire.At(l.LastActivityAt), CreatedAt: wire.At(l.CreatedAt),
		UpdatedAt: wire.At(l.UpdatedAt), MergedInto: l.MergedInto}
	for i := range tr {
		v.Transitions = append(v.Transitions, *viewTransition(&tr[i]))
	}
	return v, nil
}

// mainlandMobile is an 11-digit mainland China mobile number.
var mainlandMobile = regexp.MustCompile(`^1[3-9]\d{9}$`)

// normalizeMobile strips spaces, dashes and a +86/0086 prefix and reports
// whether what is left is a mainland mobile number. Other values are kept
// (a Hong Kong or overseas number is still a way to reach someone) but flagged.
func normalizeMobile(s string) (string, bool) {
	m := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(strings.TrimSpace(s))
	for _, p := range []string{"+86", "0086"} {
		if strings.HasPrefix(m, p) {
			m = m[len(p):]
		}
	}
	if mainlandMobile.MatchString(m) {
		return m, true
	}
	return strings.TrimSpace(s), false
}

// Leads runs the lead lifecycle: creation from contacts, tag rules,
// scoring, stage changes, and the CRM's answers.
type Leads struct {
	store Store
	jobs  queue.Wake
	codes Codes
	clock clock.Clock
	log   *slog.Logger
}

// New builds the service; jobs wakes the job runner, codes names the
// channel codes a lead's activity comes through.
func New(store Store, jobs queue.Wake, codes Codes, clk clock.Clock, log *slog.Logger) *Leads {
	if log == nil {
		log = slog.Default()
	}
	l := &Leads{store: store, jobs: jobs, codes: codes, clock: clk, log: log.With("component", "leads")}
	return l
}

// TriggerProfileFetched is the activity of a profile fetched after the
// lead was made (the fetch retried after the lead went ahead without it, or
// a staff member's edit): the lead takes the profile's name, company and
// unionid, which the CRM hears as lead.updated (and a unionid it shares
// with another lead merges them). It is no customer activity: no behaviour,
// no tag rules, and no lead is made for it. Tag rules cannot name it.
const TriggerProfileFetched = "profile_fetched"

// Activity is a lead event queued as a job (so it is applied once, after
// the contact's profile is fetched, in order with the contact's other jobs).
type Activity struct {
	Trigger        string    `json:"trigger"`
	Key            string    `json:"key"`
	ExternalUserID string    `json:"external_userid"`
	UserID         string    `json:"userid,omitempty"`
	CodeID         uint64    `json:"code_id,omitempty"`
	StoreID        uint64    `json:"store_id,omitempty"`
	ChatID         string    `json:"chat_id,omitempty"`
	GroupCodeID    uint64    `json:"group_code_id,omitempty"`
	State          string    `json:"state,omitempty"`
	At             time.Time `json:"at"`
}

// ActivityJob wraps an activity as a job for the contact's queue.
func ActivityJob(corpID string, a Activity) *model.Job {
	return &model.Job{CorpID: corpID, Kind: JobLeadActivity, Key: JobLeadActivity + ":" + a.Key,
		OrderKey: "c:" + a.ExternalUserID, Payload: queue.EncodePayload(a)}
}

func (s *Leads) scoring(ctx context.Context, corpID string) (ScoringConfig, int, error) {
	raw, version, ok, err := s.store.GetScoringConfig(ctx, corpID)
	if err != nil {
		return DefaultScoring(), 0, err
	}
	return decodeScoring(corpID, raw, version, ok)
}

// decodeScoring is a stored scoring config (the defaults when there is
// none).
func decodeScoring(corpID, raw string, version int, ok bool) (ScoringConfig, int, error) {
	if !ok {
		return DefaultScoring(), 0, nil
	}
	cfg := DefaultScoring()
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return DefaultScoring(), 0, fmt.Errorf("scoring config of %s is corrupt: %w", corpID, err)
	}
	return cfg, version, nil
}

// ruleSet is a corp's enabled rules with the tag ids their actions need,
// loaded before the lead's transaction.
type ruleSet struct {
	rules  []*TagRuleSpec
	tagIDs map[string]string
}

func (s *Leads) loadRules(ctx context.Context, corpID string) (ruleSet, error) {
	rows, err := s.store.ListTagRules(ctx, corpID)
	if err != nil {
		return ruleSet{}, err
	}
	return s.ruleSetOf(ctx, corpID, rows)
}

// changeRules is the scoring config and tag rules an admin's change of a
// lead is scored and tagged by, read fresh.
func (s *Leads) changeRules(ctx context.Context, corpID string) (ScoringConfig, ruleSet, error) {
	cfg, _, err := s.scoring(ctx, corpID)
	if err != nil {
		return cfg, ruleSet{}, err
	}
	rs, err := s.loadRules(ctx, corpID)
	return cfg, rs, err
}

// activityRules is the scoring config and rules a lead's activity runs by,
// held in memory by the store (model.Store.LeadRules): a scan reads
// neither.
func (s *Leads) activityRules(ctx context.Context, corpID string) (ScoringConfig, int, ruleSet, error) {
	lr, err := s.store.LeadRules(ctx, corpID)
	if err != nil {
		return ScoringConfig{}, 0, ruleSet{}, err
	}
	cfg, version, err := decodeScoring(corpID, lr.Scoring, lr.ScoringVersion, lr.HasScoring)
	if err != nil {
		return cfg, 0, ruleSet{}, err
	}
	rs, err := s.ruleSetOf(ctx, corpID, lr.Rules)
	return cfg, version, rs, err
}

// ruleSetOf is the rule set of a corp's live rules rows (not changed).
func (s *Leads) ruleSetOf(ctx context.Context, corpID string, rows []model.TagRule) (ruleSet, error) {
	rs := ruleSet{tagIDs: map[string]string{}}
	var names []string
	for i := range rows {
		if !rows[i].Enabled {
			continue
		}
		v, err := ruleView(&rows[i])
		if err != nil {
			s.log.Error("skip corrupt rule", "rule", rows[i].ID, "err", err)
			continue
		}
		rs.rules = append(rs.rules, v)
		names = append(append(names, v.Actions.AddTags...), v.Actions.RemoveTags...)
	}
	if len(names) == 0 {
		return rs, nil
	}
	tags, err := s.store.CorpTagsByName(ctx, corpID, names)
	if err != nil {
		return ruleSet{}, err
	}
	for _, t := range tags {
		rs.tagIDs[t.Name] = t.TagID
	}
	return rs, nil
}

func (s *Leads) RunActivity(ctx context.Context, j *model.Job) error {
	var a Activity
	if err := queue.DecodePayload(j, &a); err != nil {
		return err
	}
	contact, err := s.store.ContactByExternalID(ctx, j.CorpID, a.ExternalUserID)
	if err != nil {
		return queue.IgnoreIfGone(err, "no such contact")
	}
	init, change, err := s.PrepareActivity(ctx, j.CorpID, a, contact)
	if err != nil {
		return err
	}
	if a.Trigger == TriggerProfileFetched {
		init = nil // the lead, when it is made, reads the profile itself
	}
	err = s.store.UpdateLeadOfContact(ctx, j.CorpID, contact.ID, init, change)
	if errors.Is(err, model.ErrLeadMerged) {
		return queue.Ignore("lead was merged into another")
	}
	if a.Trigger == TriggerProfileFetched && errors.Is(err, model.ErrNotFound) {
		return queue.Ignore("no lead yet: it takes the profile when it is made")
	}
	if err != nil {
		return err
	}
	return s.AfterActivity(ctx, j.CorpID, contact.UnionID)
}

// AfterActivity follows a committed lead change: the job runner is woken
// for the jobs its rules queued, and leads of the same person are merged.
func (s *Leads) AfterActivity(ctx context.Context, corpID, unionID string) error {
	s.jobs.Notify()
	if unionID != "" {
		return s.mergeByUnionID(ctx, corpID, unionID)
	}
	return nil
}

// PrepareActivity reads what applying activity a to the lead of contact
// takes (scoring, rules, source) and returns the lead's init (for a new
// lead) and the change to run on the locked lead in the store's
// transaction.
func (s *Leads) PrepareActivity(ctx context.Context, corpID string, a Activity, contact *model.Contact) (
	init func(c *model.Contact) *model.Lead, change func(lt *model.LeadTx) error, err error) {
	cfg, version, rs, err := s.activityRules(ctx, corpID)
	if err != nil {
		return nil, nil, err
	}
	var cached *Code
	codeTags := []livecode.TagRef(nil)
	if a.CodeID > 0 {
		if v, ok := s.codes.CodeByID(a.CodeID); ok {
			cached, codeTags = &v, v.Tags
		}
	}
	codeName := ""
	if cached != nil {
		codeName = cached.Name
	}
	src, err := s.sourceOf(ctx, corpID, a, cached)
	if err != nil {
		return nil, nil, err
	}
	init = func(c *model.Contact) *model.Lead {
		l := &model.Lead{CorpID: corpID, ContactID: c.ID, ExternalUserID: c.ExternalUserID, Stage: StageRaw,
			SourceCodeID: a.CodeID, Owner: a.UserID, Breakdown: "[]", StageChangedAt: a.At, LastActivityAt: a.At}
		st := leadState{source: src, tags: []string{}, bant: webhook.BANT{}, rulePoints: map[string]int{}}
		for _, f := range webhook.BANTFields {
			st.bant[f] = webhook.BANTAnswer{Value: webhook.BANTUnknown}
		}
		st.encode(l)
		return l
	}
	change = func(lt *model.LeadTx) error {
		return s.change(lt, cfg, rs, s.clock.Now(), a.At, func(u *leadUpdate) error {
			l, st := lt.Lead, u.st
			if lt.Created {
				if err := u.transition("", StageRaw, "created from a new contact", "system", "", a.At); err != nil {
					return err
				}
			}
			// The contact's profile, as last fetched from WeCom.
			l.Name, l.CorpName, l.UnionID, l.Gender = contact.Name, contact.CorpName, contact.UnionID, contact.Gender
			if a.Trigger == TriggerProfileFetched {
				return nil
			}
			if a.At.After(l.LastActivityAt) {
				l.LastActivityAt = a.At
			}
			switch a.Trigger {
			case TriggerContactAdded:
				st.behaviour.Adds++
				if codeName != "" && !contains(st.behaviour.Codes, codeName) {
					st.behaviour.Codes = append(st.behaviour.Codes, codeName)
				}
				if l.Owner == "" {
					l.Owner = a.UserID
				}
				// The code's own tags (its mark_tag job puts them on in WeCom).
				for _, t := range codeTags {
					if !contains(st.tags, t.Name) {
						st.tags = append(st.tags, t.Name)
					}
				}
			case TriggerJoinedGroup:
				st.behaviour.GroupsJoined++
			case TriggerLost:
				rels, err := lt.ActiveRelations()
				if err != nil {
					return err
				}
				if len(rels) == 0 && l.Stage != StageLost {
					if err := u.transition(l.Stage, StageLost, "the customer left every staff member", "system", "", a.At); err != nil {
						return err
					}
				}
			}
			ev := RuleEvent{Trigger: a.Trigger, Key: a.Key, At: a.At, CodeID: a.CodeID, StoreID: a.StoreID, ChatID: a.ChatID}
			if err := u.applyRules(ev, 0); err != nil {
				return err
			}
			l.ScoringVersion = version
			return u.rescore("score", a.At, 0)
		})
	}
	return init, change, nil
}

// sourceOf is where a lead first seen in activity a comes from. A lead
// sourced from a channel code or a store code carries the code's UTM
// parameters; a store source also names its store code. A code deleted
// since leaves them out.
func (s *Leads) sourceOf(ctx context.Context, corpID string, a Activity, cached *Code) (webhook.LeadSource, error) {
	codeName := ""
	if cached != nil {
		codeName = cached.Name
	}
	src := webhook.LeadSource{Kind: webhook.SourceUnknown, CodeID: a.CodeID, CodeName: codeName, StoreID: a.StoreID, ChatID: a.ChatID,
		State: a.State, Staff: a.UserID}
	var utm string
	// code names the lead's source code: the channel, store or group code
	// it came through, unless that code has been deleted since.
	code := func(id uint64, name, codeUTM string) {
		src.CodeID, utm = id, codeUTM
		if src.CodeName == "" {
			src.CodeName = name // made on another replica since the cache was loaded
		}
	}
	switch {
	case a.CodeID > 0 && cached != nil:
		// The code cache holds it (reloaded after every change here, every
		// 15 s for other replicas'): no read.
		src.Kind = webhook.SourceChannel
		code(cached.ID, cached.Name, cached.UTM)
	case a.CodeID > 0:
		src.Kind = webhook.SourceChannel
		c, err := optional(s.store.GetChannelCode(ctx, corpID, a.CodeID))
		if err != nil {
			return src, err
		}
		if c != nil {
			code(c.ID, c.Name, c.UTM)
		}
	case a.StoreID > 0:
		src.Kind = webhook.SourceStore
		if a.State == "" {
			break
		}
		w, err := optional(s.store.StoreCodeWayByState(ctx, corpID, a.State))
		if err != nil {
			return src, err
		}
		if w == nil {
			break
		}
		c, err := optional(s.store.GetStoreCode(ctx, corpID, w.CodeID))
		if err != nil {
			return src, err
		}
		if c != nil {
			code(c.ID, c.Name, c.UTM)
		}
	case a.ChatID != "":
		src.Kind = webhook.SourceGroup
		if a.GroupCodeID == 0 {
			break
		}
		c, err := optional(s.store.GetGroupCode(ctx, corpID, a.GroupCodeID))
		if err != nil {
			return src, err
		}
		if c != nil {
			code(c.ID, c.Name, c.UTM)
		}
	}
	src.UTM = livecode.DecodeUTM(utm)
	return src, nil
}

// optional reads a row that may have been deleted since it was named: not
// found is nil, not an error.
func optional[T any](v *T, err error) (*T, error) {
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// mergeByUnionID folds newer leads of the same person into the oldest one.
func (s *Leads) mergeByUnionID(ctx context.Context, corpID, unionID string) error {
	leads, err := s.store.LeadsByUnionID(ctx, corpID, unionID)
	if err != nil || len(leads) < 2 {
		return err
	}
	keep := leads[0]
	// Read outside the lead's transaction: SQLite has one connection, and
	// the transaction holds it.
	cfg, _, err := s.scoring(ctx, corpID)
	if err != nil {
		return err
	}
	for _, other := range leads[1:] {
		err = s.store.UpdateLead(ctx, corpID, keep.ID, func(lt *model.LeadTx) error {
			reason := fmt.Sprintf("same person (unionid) as lead %d", keep.ID)
			absorbed, err := lt.Absorb(other.ID, reason)
			if err != nil || absorbed == nil {
				return err // nil: merged already, by another replica
			}
			ost, err := decodeLead(absorbed)
			if err != nil {
				return queue.Permanent(err)
			}
			now := s.clock.Now()
			return s.change(lt, cfg, ruleSet{}, now, now, func(u *leadUpdate) error {
				st := u.st
				u.merged = &webhook.MergedLead{ID: absorbed.ID, ContactID: absorbed.ContactID, ExternalUserID: absorbed.ExternalUserID, Reason: reason}
				for _, t := range ost.tags {
					if !contains(st.tags, t) {
						st.tags = append(st.tags, t)
					}
				}
				st.behaviour.Adds += ost.behaviour.Adds
				st.behaviour.GroupsJoined += ost.behaviour.GroupsJoined
				for _, c := range ost.behaviour.Codes {
					if !contains(st.behaviour.Codes, c) {
						st.behaviour.Codes = append(st.behaviour.Codes, c)
					}
				}
				for _, f := range webhook.BANTFields {
					if st.bant[f].Value == webhook.BANTUnknown && ost.bant[f].Value != webhook.BANTUnknown {
						st.bant[f] = ost.bant[f]
					}
				}
				return u.rescore("score", now, 0)
			})
		})
		if err != nil && !errors.Is(err, model.ErrLeadMerged) {
			return err
		}
	}
	return nil
}

// leadUpdate is the work on one locked lead inside its transaction.
type leadUpdate struct {
	s     *Leads
	lt    *model.LeadTx
	st    *leadState
	cfg   ScoringConfig
	rules ruleSet
	now   time.Time
	// events are the stage events, in the order the moves were made.
	events []model.OutboxEvent
	// merged is the lead this transaction absorbed (lead.merged).
	merged *webhook.MergedLead
	// moves are the events' transitions, whose ids are known once written.
	moves []move
}

// move is a transition and its view in a stage event.
type move struct {
	tr   *model.LeadTransition
	view *webhook.LeadTransition
}

// change runs fn on a locked lead and then announces, in the same
// transaction, what the CRM receives: a new lead's lead.created once it holds
// everything the transaction learnt (profile, source, tags, score), or one
// lead.updated (lead.merged for a merge) naming every changed field with its
// previous value; then the stage events in the order of the moves. at is
// when the change happened.
func (s *Leads) change(lt *model.LeadTx, cfg ScoringConfig, rules ruleSet, now, at time.Time, fn func(u *leadUpdate) error) error {
	st, err := decodeLead(lt.Lead)
	if err != nil {
		return queue.Permanent(err)
	}
	orig := *lt.Lead
	u := &leadUpdate{s: s, lt: lt, st: &st, cfg: cfg, rules: rules, now: now}
	if err := fn(u); err != nil {
		return err
	}
	st.encode(lt.Lead)
	lt.Lead.UpdatedAt = now
	if !lt.Created && u.merged == nil && len(u.events) == 0 && model.LeadUnchanged(&orig, lt.Lead) {
		// Nothing the CRM sees moved (a re-score that leaves the score as
		// it was): no event, and no views to compare.
		return lt.FlushTransitions()
	}
	var before *webhook.Lead
	if !lt.Created {
		if before, err = ViewLead(&orig, nil); err != nil {
			return queue.Permanent(err)
		}
	}
	after, err := ViewLead(lt.Lead, nil)
	if err != nil {
		return err
	}
	var events []model.OutboxEvent
	switch changes := leadChanges(before, after); {
	case lt.Created:
		events = append(events, webhook.LeadEvent(webhook.EventLeadCreated, after, at, webhook.LeadEventData{}))
	case u.merged != nil:
		events = append(events, webhook.LeadEvent(webhook.EventLeadMerged, after, at, webhook.LeadEventData{Merged: u.merged, Changes: changes}))
	case len(changes) > 0:
		events = append(events, webhook.LeadEvent(webhook.EventLeadUpdated, after, at, webhook.LeadEventData{Changes: changes}))
	}
	// The moves' transitions are written together; their ids go into the
	// stage events before those are rendered.
	if err := lt.FlushTransitions(); err != nil {
		return err
	}
	for _, m := range u.moves {
		m.view.ID = m.tr.ID
	}
	return lt.Emit(append(events, u.events...)...)
}

func (u *leadUpdate) transition(from, to, reason, actor, actorID string, at time.Time) error {
	l := u.lt.Lead
	l.Stage, l.StageChangedAt = to, at
	if to == StageNurturing {
		floor := l.Score
		u.st.behaviour.NurtureFloor = &floor
	} else {
		u.st.behaviour.NurtureFloor = nil
	}
	tr, err := u.lt.Transition(from, to, reason, actor, actorID, at)
	if err != nil {
		return err
	}
	if from == "" {
		return nil
	}
	if err := u.emit(webhook.EventLeadStageChanged, at, tr); err != nil {
		return err
	}
	if to == StageSQL {
		return u.emit(webhook.EventLeadQualified, at, nil)
	}
	return nil
}

// emit adds a stage event with the lead as it is at this move; change
// writes it to the outbox after the lead's own event. A move (tr) adds the
// previous stage and the transition.
func (u *leadUpdate) emit(eventType string, at time.Time, tr *model.LeadTransition) error {
	u.st.encode(u.lt.Lead)
	v, err := ViewLead(u.lt.Lead, nil)
	if err != nil {
		return err
	}
	var extra webhook.LeadEventData
	if tr != nil {
		extra.PreviousStage, extra.Transition = tr.From, viewTransition(tr)
		u.moves = append(u.moves, move{tr: tr, view: extra.Transition})
	}
	u.events = append(u.events, webhook.LeadEvent(eventType, v, at, extra))
	return nil
}

// applyRules runs the rules for one event in priority order. depth bounds
// cascades (a rule's stage change firing stage_changed rules).
func (u *leadUpdate) applyRules(ev RuleEvent, depth int) error {
	l := u.lt.Lead
	var add, remove []livecode.TagRef
	for _, r := range u.rules.rules {
		tags := map[string]bool{}
		for _, t := range u.st.tags {
			tags[t] = true
		}
		if !r.matches(ev, ruleLead{Tags: tags, CorpName: l.CorpName, Gender: l.Gender, Score: l.Score}) {
			continue
		}
		first, err := u.lt.FirstRun(r.ID, ev.Trigger+":"+ev.Key)
		if err != nil {
			return err
		}
		if !first {
			continue
		}
		for _, t := range r.Actions.AddTags {
			if !contains(u.st.tags, t) {
				u.st.tags = append(u.st.tags, t)
				add = append(add, livecode.TagRef{Name: t, ID: u.rules.tagIDs[t]})
			}
		}
		for _, t := range r.Actions.RemoveTags {
			if i := indexOf(u.st.tags, t); i >= 0 {
				u.st.tags = append(u.st.tags[:i], u.st.tags[i+1:]...)
				remove = append(remove, livecode.TagRef{Name: t, ID: u.rules.tagIDs[t]})
			}
		}
		if r.Actions.ScoreDelta != 0 {
			u.st.rulePoints[r.Name] += r.Actions.ScoreDelta
		}
		for f, v := range r.Actions.SetBANT {
			u.st.bant[f] = v
		}
	}
	if len(add)+len(remove) == 0 {
		return nil
	}
	// Mirror the tag changes in WeCom on every live relation.
	rels, err := u.lt.ActiveRelations()
	if err != nil {
		return err
	}
	for _, r := range rels {
		p := livecode.TagJob{RelationRef: livecode.RelationRef{UserID: r.UserID, ExternalUserID: r.ExternalUserID}, Tags: add, Remove: remove}
		if err := u.lt.EnqueueJobs(&model.Job{CorpID: l.CorpID, Kind: livecode.JobMarkTag,
			Key: fmt.Sprintf("%s:rule:%d:%s:%s", livecode.JobMarkTag, l.ID, r.UserID, ev.Trigger+":"+ev.Key), OrderKey: "c:" + r.ExternalUserID,
			Payload: queue.EncodePayload(p)}); err != nil {
			return err
		}
	}
	return nil
}

// rescore recomputes the score and moves the stage when a threshold is
// crossed; a stage change runs the stage_changed rules (bounded).
func (u *leadUpdate) rescore(actor string, at time.Time, depth int) error {
	l := u.lt.Lead
	score, lines := u.cfg.Score(ScoreInput{BANT: u.st.bant, Behaviour: u.st.behaviour, Tags: u.st.tags,
		RulePoints: u.st.rulePoints, LastActivityAt: l.LastActivityAt}, u.now)
	b, _ := json.Marshal(lines)
	l.Score, l.Breakdown = score, string(b)
	u.st.encode(l)
	to, reason := u.cfg.Qualify(l.Stage, score, u.st.bant, u.st.behaviour.NurtureFloor)
	if to == "" {
		return nil
	}
	from := l.Stage
	if err := u.transition(from, to, reason, actor, "", at); err != nil {
		return err
	}
	if to == StageSQL {
		// A qualified lead goes to the CRM: the lead.qualified delivery is in
		// the outbox with this transaction.
		if err := u.transition(StageSQL, StageHandedOff, "pushed to the CRM", "system", "", at); err != nil {
			return err
		}
	}
	if depth >= 3 {
		return nil
	}
	if err := u.applyRules(RuleEvent{Trigger: TriggerStageChanged, Key: fmt.Sprintf("%s>%s@%d", from, l.Stage, at.UnixMilli()), At: at, ToStage: l.Stage}, depth+1); err != nil {
		return err
	}
	return u.rescore(actor, at, depth+1)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// leadFields are the fields lead.updated announces: everything the CRM
// receives except the stage (it has its own events), ids and times.
var leadFields = []string{"name", "corp_name", "mobile", "mobile_valid", "gender", "unionid", "owner", "source", "tags",
	"bant", "behaviour", "score", "score_breakdown"}

// leadChanges lists the fields that differ between two views of a lead,
// each with its previous value; nil when before is nil (a new lead).
func leadChanges(before, after *webhook.Lead) []webhook.LeadChange {
	if before == nil {
		return nil
	}
	fields := func(l *webhook.Lead) map[string]json.RawMessage {
		b, _ := json.Marshal(l)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(b, &m)
		return m
	}
	b, a := fields(before), fields(after)
	var out []webhook.LeadChange
	for _, f := range leadFields {
		if bytes.Equal(b[f], a[f]) {
			continue
		}
		prev := b[f]
		if prev == nil {
			prev = json.RawMessage(`""`) // an omitted empty string
		}
		out = append(out, webhook.LeadChange{Field: f, Previous: prev})
	}
	return out
}
