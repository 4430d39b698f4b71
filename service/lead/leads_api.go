package lead

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// LeadQuery selects leads, newest first, by stage, owner, tag, a minimum
// score, a search, or the contact whose lead it is (the lead it was merged
// into, when the same person was merged by unionid).
type LeadQuery struct {
	CorpID    string
	Stage     string
	Owner     string
	Tag       string
	MinScore  *int
	Q         string
	ContactID uint64
	BeforeID  uint64
	Limit     int
}

func (q LeadQuery) filter() model.LeadFilter {
	return model.LeadFilter{CorpID: q.CorpID, Stage: q.Stage, Owner: q.Owner, Tag: q.Tag, MinScore: q.MinScore,
		Q: q.Q, ContactID: q.ContactID, BeforeID: q.BeforeID, Limit: q.Limit}
}

// List returns leads; a staff principal sees only their own.
func (s *Leads) List(ctx context.Context, p *auth.Principal, q LeadQuery) ([]*webhook.Lead, error) {
	if p != nil && p.Role == auth.RoleStaff {
		if p.UserID == "" {
			return nil, ErrNotLinked
		}
		q.Owner = p.UserID
	}
	rows, err := s.store.ListLeads(ctx, q.filter())
	if err != nil {
		return nil, err
	}
	out := make([]*webhook.Lead, 0, len(rows))
	for i := range rows {
		v, err := ViewLead(&rows[i], nil)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, s.nameOwners(ctx, q.CorpID, out)
}

// nameOwners fills in the owners' names from the staff directory.
func (s *Leads) nameOwners(ctx context.Context, corpID string, leads []*webhook.Lead) error {
	var ids []string
	for _, l := range leads {
		if l.Owner != "" && !contains(ids, l.Owner) {
			ids = append(ids, l.Owner)
		}
	}
	names, err := s.store.StaffNames(ctx, corpID, ids)
	if err != nil {
		return err
	}
	for _, l := range leads {
		l.OwnerName = names[l.Owner]
	}
	return nil
}

// ErrNotLinked is returned for a staff token that acts for no WeCom userid.
var ErrNotLinked = errors.New("this staff token is not linked to a WeCom userid (gateway token create --userid)")

// ErrForbidden is returned when a principal may not see a resource.
var ErrForbidden = errors.New("forbidden")

// Get returns one lead with its score breakdown and transitions.
func (s *Leads) Get(ctx context.Context, p *auth.Principal, corpID string, id uint64) (*webhook.Lead, error) {
	l, tr, err := s.store.GetLead(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	if p != nil && p.Role == auth.RoleStaff && (p.UserID == "" || l.Owner != p.UserID) {
		// Not another seller's lead, not even its existence.
		return nil, model.ErrNotFound
	}
	v, err := ViewLead(l, tr)
	if err != nil {
		return nil, err
	}
	return v, s.nameOwners(ctx, corpID, []*webhook.Lead{v})
}

// LeadPatch is what an admin may change on a lead; absent fields stay.
type LeadPatch struct {
	Name     *string                       `json:"name"`
	CorpName *string                       `json:"corp_name"`
	Mobile   *string                       `json:"mobile"`
	Owner    *string                       `json:"owner"`
	BANT     map[string]webhook.BANTAnswer `json:"bant"`
}

// Patch changes fields of a lead, rescoring it and running the
// field_changed rules.
func (s *Leads) Patch(ctx context.Context, corpID string, id uint64, p LeadPatch, actor string) (*webhook.Lead, error) {
	if p.Name != nil && utf8.RuneCountInString(*p.Name) > 128 {
		return nil, &apierr.ValidationError{Field: "name", Reason: "must be at most 128 characters"}
	}
	if p.CorpName != nil && utf8.RuneCountInString(*p.CorpName) > 128 {
		return nil, &apierr.ValidationError{Field: "corp_name", Reason: "must be at most 128 characters"}
	}
	if p.Mobile != nil && len(*p.Mobile) > 32 {
		return nil, &apierr.ValidationError{Field: "mobile", Reason: "must be at most 32 characters"}
	}
	if p.Owner != nil && (*p.Owner == "" || len(*p.Owner) > 64) {
		return nil, &apierr.ValidationError{Field: "owner", Reason: "must be a WeCom userid"}
	}
	for f, v := range p.BANT {
		if !contains(webhook.BANTFields, f) {
			return nil, &apierr.ValidationError{Field: "bant." + f, Reason: "is not a BANT field (budget, authority, need, timeline)"}
		}
		if v.Value != webhook.BANTYes && v.Value != webhook.BANTNo && v.Value != webhook.BANTUnknown {
			return nil, &apierr.ValidationError{Field: "bant." + f + ".value", Reason: "must be yes, no or unknown"}
		}
		if utf8.RuneCountInString(v.Note) > 500 {
			return nil, &apierr.ValidationError{Field: "bant." + f + ".note", Reason: "must be at most 500 characters"}
		}
	}
	cfg, rs, err := s.changeRules(ctx, corpID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err = s.store.UpdateLead(ctx, corpID, id, func(lt *model.LeadTx) error {
		return s.change(lt, cfg, rs, now, now, func(u *leadUpdate) error {
			l, st := lt.Lead, u.st
			var changed []string
			if p.Name != nil && *p.Name != l.Name {
				l.Name, changed = *p.Name, append(changed, "name")
			}
			if p.CorpName != nil && *p.CorpName != l.CorpName {
				l.CorpName, changed = *p.CorpName, append(changed, "corp_name")
			}
			if p.Mobile != nil {
				m, ok := normalizeMobile(*p.Mobile)
				if m != l.Mobile {
					l.Mobile, l.MobileValid, changed = m, ok, append(changed, "mobile")
				}
			}
			if p.Owner != nil && *p.Owner != l.Owner {
				l.Owner, changed = *p.Owner, append(changed, "owner")
			}
			for _, f := range webhook.BANTFields {
				if v, ok := p.BANT[f]; ok && v != st.bant[f] {
					st.bant[f], changed = v, append(changed, "bant."+f)
				}
			}
			for _, f := range changed {
				key := fmt.Sprintf("%s@%d", f, now.UnixNano())
				if err := u.applyRules(RuleEvent{Trigger: TriggerFieldChanged, Key: key, At: now, Field: f}, 0); err != nil {
					return err
				}
			}
			return u.rescore("score", now, 0)
		})
	})
	if err != nil {
		return nil, err
	}
	s.jobs.Notify()
	return s.Get(ctx, nil, corpID, id)
}

// stageMoves lists the moves an admin may make by hand; the CRM's answers
// and the score make the others.
var stageMoves = map[string][]string{
	StageRaw:       {StageMQL, StageSQL, StageLost},
	StageMQL:       {StageSQL, StageNurturing, StageLost},
	StageSQL:       {StageHandedOff, StageNurturing, StageLost},
	StageHandedOff: {StageAccepted, StageRejected, StageNurturing, StageLost},
	StageAccepted:  {StageWon, StageLost, StageNurturing},
	StageRejected:  {StageNurturing},
	StageNurturing: {StageMQL, StageSQL, StageLost},
	StageWon:       {},
	StageLost:      {StageNurturing},
}

// SetStage moves a lead by an admin's decision, with the reason recorded.
func (s *Leads) SetStage(ctx context.Context, corpID string, id uint64, to, reason, actor string) (*webhook.Lead, error) {
	if !ValidStage(to) {
		return nil, &apierr.ValidationError{Field: "stage", Reason: "must be one of " + strings.Join(Stages, ", ")}
	}
	if strings.TrimSpace(reason) == "" || utf8.RuneCountInString(reason) > 500 {
		return nil, &apierr.ValidationError{Field: "reason", Reason: "a reason of 1 to 500 characters is required"}
	}
	cfg, rs, err := s.changeRules(ctx, corpID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err = s.store.UpdateLead(ctx, corpID, id, func(lt *model.LeadTx) error {
		from := lt.Lead.Stage
		if !contains(stageMoves[from], to) {
			return &apierr.ValidationError{Field: "stage", Reason: fmt.Sprintf("a lead cannot move from %s to %s", from, to)}
		}
		return s.change(lt, cfg, rs, now, now, func(u *leadUpdate) error {
			if err := u.transition(from, to, reason, "admin", actor, now); err != nil {
				return err
			}
			if to == StageSQL {
				if err := u.transition(StageSQL, StageHandedOff, "pushed to the CRM", "system", "", now); err != nil {
					return err
				}
			}
			return u.applyRules(RuleEvent{Trigger: TriggerStageChanged, Key: fmt.Sprintf("admin:%d", now.UnixNano()), At: now, ToStage: lt.Lead.Stage}, 0)
		})
	})
	if err != nil {
		return nil, err
	}
	s.jobs.Notify()
	return s.Get(ctx, nil, corpID, id)
}

// CRM answers.
const (
	CRMAccepted = "accepted"
	CRMRejected = "rejected"
	CRMWon      = "won"
	CRMLost     = "lost"
)

// CRMAnswer is the CRM's verdict on a lead it received.
type CRMAnswer struct {
	EventID string `json:"event_id"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
}

// CRMResult tells the CRM what its answer did.
type CRMResult struct {
	LeadID    uint64 `json:"lead_id"`
	Stage     string `json:"stage"`
	Duplicate bool   `json:"duplicate,omitempty"`
	// MergedInto is set when the lead answered on was merged into another
	// (same person): the answer went to that lead, LeadID.
	MergedInto uint64 `json:"merged_into,omitempty"`
}

// ApplyCRMAnswer takes the CRM's answer: accepted, rejected (the lead goes
// back to nurturing), won or lost. A repeated event id changes nothing and
// answers as the first time did.
func (s *Leads) ApplyCRMAnswer(ctx context.Context, corpID string, id uint64, a CRMAnswer, actor string) (*CRMResult, error) {
	if a.EventID == "" || len(a.EventID) > 128 {
		return nil, &apierr.ValidationError{Field: "event_id", Reason: "the CRM's own event id (1 to 128 characters) is required"}
	}
	var to []string
	switch a.Status {
	case CRMAccepted:
		to = []string{StageAccepted}
	case CRMRejected:
		if strings.TrimSpace(a.Reason) == "" {
			return nil, &apierr.ValidationError{Field: "reason", Reason: "a rejection needs a reason"}
		}
		to = []string{StageRejected, StageNurturing}
	case CRMWon:
		to = []string{StageWon}
	case CRMLost:
		to = []string{StageLost}
	default:
		return nil, &apierr.ValidationError{Field: "status", Reason: "must be accepted, rejected, won or lost"}
	}
	if utf8.RuneCountInString(a.Reason) > 500 {
		return nil, &apierr.ValidationError{Field: "reason", Reason: "must be at most 500 characters"}
	}
	// An answer on a lead that was merged into another is the kept lead's.
	answered := id
	id, err := s.keptLead(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	var mergedInto uint64
	if id != answered {
		mergedInto = id
	}
	// The same event id is a repeat only with the same content: the lead,
	// the status and the reason (by its digest, when the first one's is
	// known).
	sum := sha256.Sum256([]byte(a.Reason))
	reasonDigest := hex.EncodeToString(sum[:])
	if prev, err := s.store.CRMStatusByEvent(ctx, corpID, a.EventID); err == nil {
		if prev.LeadID != id || prev.Status != a.Status || (prev.ReasonDigest != "" && prev.ReasonDigest != reasonDigest) {
			return nil, &apierr.ConflictError{Field: "event_id", Reason: fmt.Sprintf(
				"this event id was already used for another answer (%s on lead %d): use a new event id for a new answer", prev.Status, prev.LeadID)}
		}
		return &CRMResult{LeadID: id, Stage: prev.Result, Duplicate: true, MergedInto: mergedInto}, nil
	} else if !errors.Is(err, model.ErrNotFound) {
		return nil, err
	}
	cfg, _, err := s.scoring(ctx, corpID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var stage string
	err = s.store.UpdateLead(ctx, corpID, id, func(lt *model.LeadTx) error {
		return s.change(lt, cfg, ruleSet{}, now, now, func(u *leadUpdate) error {
			from := lt.Lead.Stage
			switch from {
			case StageHandedOff, StageAccepted:
			default:
				if a.Status != CRMLost && a.Status != CRMWon {
					return &apierr.ValidationError{Field: "status", Reason: fmt.Sprintf("the lead is %s, not with the CRM", from)}
				}
			}
			reason := "CRM: " + a.Status
			if a.Reason != "" {
				reason += " (" + a.Reason + ")"
			}
			for _, t := range to {
				if err := u.transition(lt.Lead.Stage, t, reason, "crm", actor, now); err != nil {
					return err
				}
			}
			stage = lt.Lead.Stage
			return lt.RecordCRMStatus(a.EventID, a.Status, reasonDigest, stage)
		})
	})
	if errors.Is(err, model.ErrConflict) {
		// The same event id arrived twice at once: the other one won.
		return s.ApplyCRMAnswer(ctx, corpID, answered, a, actor)
	}
	if err != nil {
		return nil, err
	}
	s.jobs.Notify()
	return &CRMResult{LeadID: id, Stage: stage, MergedInto: mergedInto}, nil
}

// keptLead follows a lead's merges to the lead that holds it now.
func (s *Leads) keptLead(ctx context.Context, corpID string, id uint64) (uint64, error) {
	for range 8 {
		l, _, err := s.store.GetLead(ctx, corpID, id)
		if err != nil || l.MergedInto == 0 {
			return id, err
		}
		id = l.MergedInto
	}
	return 0, fmt.Errorf("lead %d: merges do not end", id)
}

// Funnel is lead counts per stage over a period and conversion between
// consecutive stages.
type Funnel struct {
	From        wire.Timestamp     `json:"from"`
	To          wire.Timestamp     `json:"to"`
	CodeID      uint64             `json:"code_id,omitempty"`
	Counts      map[string]int     `json:"counts"`
	Conversions map[string]float64 `json:"conversions"`
}

// funnelPath is the funnel's main line, in order.
var funnelPath = []string{StageRaw, StageMQL, StageSQL, StageHandedOff, StageAccepted, StageWon}

// Funnel counts the leads that reached each stage in [from, to). On the
// main line a lead counts at every stage up to the furthest it reached, so a
// lead that jumped raw → SQL has passed MQL too and no conversion exceeds
// 100%; the stages off it (rejected, nurturing, lost) count the leads that
// moved there.
func (s *Leads) Funnel(ctx context.Context, corpID string, from, to time.Time, codeID uint64) (*Funnel, error) {
	counts, err := s.store.FunnelCounts(ctx, corpID, from, to, codeID)
	if err != nil {
		return nil, err
	}
	furthest, err := s.store.FurthestStages(ctx, corpID, from, to, codeID, funnelPath)
	if err != nil {
		return nil, err
	}
	reached := 0
	for i := len(funnelPath) - 1; i >= 0; i-- {
		reached += furthest[funnelPath[i]]
		counts[funnelPath[i]] = reached
	}
	for _, st := range Stages {
		if _, ok := counts[st]; !ok {
			counts[st] = 0
		}
	}
	conv := map[string]float64{}
	for i := 1; i < len(funnelPath); i++ {
		a, b := counts[funnelPath[i-1]], counts[funnelPath[i]]
		r := 0.0
		if a > 0 {
			r = float64(b) / float64(a)
		}
		conv[funnelPath[i-1]+"_to_"+funnelPath[i]] = r
	}
	return &Funnel{From: wire.At(from), To: wire.At(to), CodeID: codeID, Counts: counts, Conversions: conv}, nil
}

// Scoring returns the corp's scoring config and its version.
func (s *Leads) Scoring(ctx context.Context, corpID string) (ScoringConfig, int, error) {
	return s.scoring(ctx, corpID)
}

// SetScoring stores a scoring config and re-scores every lead in the
// background, in batches, without holding up the API.
func (s *Leads) SetScoring(ctx context.Context, corpID string, cfg ScoringConfig) (int, error) {
	if err := cfg.Validate(); err != nil {
		return 0, err
	}
	b, _ := json.Marshal(cfg)
	version, err := s.store.SaveScoringConfig(ctx, corpID, string(b))
	if err != nil {
		return 0, err
	}
	if err := s.store.RearmJob(ctx, &model.Job{CorpID: corpID, Kind: JobRescore, Key: JobRescore,
		OrderKey: "rescore", Payload: queue.EncodePayload(rescorePayload{Version: version})}); err != nil {
		return 0, err
	}
	s.jobs.Notify()
	return version, nil
}

type rescorePayload struct {
	Version int    `json:"version"`
	After   uint64 `json:"after"`
}

// rescoreBatch is how many leads one rescore job step handles; the job
// re-arms itself for the next batch so other jobs run in between.
const rescoreBatch = 500

func (s *Leads) RunRescore(ctx context.Context, j *model.Job) error {
	var p rescorePayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	cfg, version, err := s.scoring(ctx, j.CorpID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	// The store takes the batch in a few transactions (a hundred leads
	// each on SQLite, whose one writer API writes wait for).
	after, err := s.store.UpdateLeadsAfter(ctx, j.CorpID, p.After, rescoreBatch, func(lt *model.LeadTx) error {
		return s.change(lt, cfg, ruleSet{}, now, now, func(u *leadUpdate) error {
			lt.Lead.ScoringVersion = version
			return u.rescore("score", now, 3)
		})
	})
	if err != nil || after == 0 {
		return err // done, or the job retries the step (re-scoring again changes nothing)
	}
	// More to do: continue after this batch (a rerun of the same job).
	return s.store.RearmJob(ctx, &model.Job{CorpID: j.CorpID, Kind: JobRescore, Key: JobRescore, OrderKey: "rescore",
		Payload: queue.EncodePayload(rescorePayload{Version: version, After: after})})
}

// FeedSettle is how far behind the clock the change feed stays: a lead
// saved by a transaction that commits a moment after a later one is still
// read before the feed moves past its time.
const FeedSettle = 2 * time.Second

// feedCursorPrefix tells a change-feed cursor from the list's.
const feedCursorPrefix = "f_"

// IsFeedCursor reports whether a cursor continues the change feed.
func IsFeedCursor(c string) bool { return strings.HasPrefix(c, feedCursorPrefix) }

// LeadFeed is one page of the change feed.
type LeadFeed struct {
	Leads []*webhook.Lead `json:"leads"`
	// NextCursor continues the feed after the page's last lead; it is set
	// on every page, so a CRM can keep it and ask again later.
	NextCursor string `json:"next_cursor"`
}

// Changes is the CRM's change feed: leads changed after a time, or after a
// cursor, oldest change first (absorbed leads too, with merged_into), so a
// CRM that was down can catch up and then keep polling with next_cursor.
func (s *Leads) Changes(ctx context.Context, corpID string, after time.Time, cursor string, limit int) (*LeadFeed, error) {
	var afterID uint64
	if cursor != "" {
		var ns int64
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(cursor, feedCursorPrefix))
		if err != nil || !IsFeedCursor(cursor) {
			return nil, &apierr.ValidationError{Field: "cursor", Reason: "must be the next_cursor of the feed"}
		}
		if _, err := fmt.Sscanf(string(b), "%d.%d", &ns, &afterID); err != nil {
			return nil, &apierr.ValidationError{Field: "cursor", Reason: "must be the next_cursor of the feed"}
		}
		after = time.Unix(0, ns).UTC()
	}
	rows, err := s.store.LeadChanges(ctx, corpID, after, afterID, s.clock.Now().Add(-FeedSettle), limit)
	if err != nil {
		return nil, err
	}
	feed := &LeadFeed{Leads: make([]*webhook.Lead, 0, len(rows))}
	for i := range rows {
		v, err := ViewLead(&rows[i], nil)
		if err != nil {
			return nil, err
		}
		feed.Leads = append(feed.Leads, v)
	}
	if err := s.nameOwners(ctx, corpID, feed.Leads); err != nil {
		return nil, err
	}
	if n := len(rows); n > 0 {
		after, afterID = rows[n-1].UpdatedAt, rows[n-1].ID
	}
	feed.NextCursor = feedCursorPrefix + base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d.%d", after.UnixNano(), afterID))
	return feed, nil
}
