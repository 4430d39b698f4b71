package contact

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/wecom"
)

// JobFollowUp is the follow-up of one add, in one job: the profile fetch,
// the remark, the code's tags and the lead's contact_added activity, which
// share what the fetch learns (the remark's {name}, the relation's tags,
// the lead's profile). Its WeCom calls come first; then one transaction
// writes the profile, the relation's remark and tags, the lead (rules,
// score, outbox) and the job's own outcome. A remark or tag call that fails
// becomes a job of its own (remark, mark_tag) in that transaction, with
// its own retries; a profile fetch that keeps failing splits the whole
// follow-up into the four jobs it replaces. A re-run repeats the WeCom
// calls (each sets a state, so repeating it changes nothing) and writes
// the rest once.
const JobFollowUp = "follow_up"

// The steps of a follow-up that run as jobs of their own when they fail in
// it (and fetch_profile after a customer's edit).
const (
	JobFetchProfile = "fetch_profile"
	JobRemark       = "remark"
)

// stepRetryAfter is when a step that failed in a follow-up is tried again
// as its own job: the job runner's first backoff.
const stepRetryAfter = 2 * time.Second

// followUpSplitAfter is the attempt after which a profile fetch that fails
// and could be retried splits the follow-up, so that the remark, tags and
// lead do not wait for the profile any longer.
const followUpSplitAfter = 3

type followUpPayload struct {
	relPayload
	// EventID names the add; split jobs take their keys from it.
	EventID   uint64            `json:"event_id"`
	ContactID uint64            `json:"contact_id"`
	Remark    *remarkPayload    `json:"remark,omitempty"`
	Tags      []livecode.TagRef `json:"tags,omitempty"`
	Activity  lead.Activity     `json:"activity"`
}

// followUpJob is the follow-up job of an add.
func followUpJob(corpID string, p followUpPayload) *model.Job {
	return &model.Job{CorpID: corpID, Kind: JobFollowUp, Key: fmt.Sprintf("%s:%d", JobFollowUp, p.EventID),
		OrderKey: "c:" + p.ExternalUserID, Payload: queue.EncodePayload(p)}
}

// stepJob is one step of a follow-up as a job of its own, keyed as the add
// used to key it.
func (p *followUpPayload) stepJob(corpID, kind string, payload any) *model.Job {
	return &model.Job{CorpID: corpID, Kind: kind, Key: fmt.Sprintf("%s:%d", kind, p.EventID),
		OrderKey: "c:" + p.ExternalUserID, Payload: queue.EncodePayload(payload)}
}

// FollowUps runs the follow-up job; it needs the contacts' WeCom clients and
// the leads' activity.
type FollowUps struct {
	contacts *Contacts
	leads    *lead.Leads
}

// NewFollowUps builds the follow-up job's runner.
func NewFollowUps(contacts *Contacts, leads *lead.Leads) FollowUps {
	return FollowUps{contacts: contacts, leads: leads}
}

// Run runs a follow_up job: the add's profile, remark and tags in WeCom
// and the lead's activity; a step that fails becomes a job of its own.
func (f FollowUps) Run(ctx context.Context, j *model.Job) error {
	var p followUpPayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	client, err := f.contacts.clients(j.CorpID)
	if err != nil {
		return queue.Permanent(err)
	}
	d, err := client.GetExternalContact(ctx, p.ExternalUserID, "")
	if err != nil {
		action := wecom.Classify(err)
		if action == wecom.ActionDefer || (action == wecom.ActionRetry && j.Attempts < followUpSplitAfter) {
			return err
		}
		return f.split(ctx, j, &p, err)
	}
	prof, remark, tags := profileOf(d, p.UserID)
	var later []*model.Job
	if p.Remark != nil {
		text := channelcode.FillRemark(p.Remark.Template, prof.Name, p.Remark.CodeName, p.Remark.Day)
		if err := client.Remark(ctx, wecom.RemarkUpdate{UserID: p.UserID, ExternalUserID: p.ExternalUserID, Remark: &text}); err != nil {
			later = append(later, f.stepFailed(p.stepJob(j.CorpID, JobRemark, *p.Remark), err))
		} else {
			remark = text
		}
	}
	if ids := tagIDs(p.Tags); len(ids) > 0 {
		if err := client.MarkTag(ctx, p.UserID, p.ExternalUserID, ids, nil); err != nil {
			later = append(later, f.stepFailed(p.stepJob(j.CorpID, livecode.JobMarkTag, livecode.TagJob{RelationRef: p.relPayload, Tags: p.Tags}), err))
		} else {
			for _, t := range p.Tags {
				tags = append(tags, t.Name)
			}
		}
	}
	contact := &model.Contact{ID: p.ContactID, CorpID: j.CorpID, ExternalUserID: p.ExternalUserID, Name: prof.Name,
		CorpName: prof.CorpName, UnionID: prof.UnionID, Gender: prof.Gender}
	init, change, err := f.leads.PrepareActivity(ctx, j.CorpID, p.Activity, contact)
	if err != nil {
		return err
	}
	rctx := ctx
	if prof.UnionID != "" {
		// Leads of the same person are merged after the lead's change: the
		// job is finished after that.
		rctx = model.WithoutFinish(ctx)
	}
	err = f.contacts.store.RecordFollowUp(rctx, model.FollowUp{CorpID: j.CorpID, ContactID: p.ContactID,
		ExternalUserID: p.ExternalUserID, UserID: p.UserID, Profile: prof, Remark: remark, Tags: tagsJSON(tags),
		Jobs: later, LeadInit: init, Lead: change})
	if err != nil {
		return err
	}
	if len(later) > 0 {
		f.contacts.jobs.Notify()
	}
	return f.leads.AfterActivity(ctx, j.CorpID, prof.UnionID)
}

// stepFailed records the first attempt at a step on the job that takes it
// over, as the job runner would have: failed for good, retried after the
// first backoff, or deferred (no attempt) until a rate limit lifts.
func (f FollowUps) stepFailed(j *model.Job, err error) *model.Job {
	now := f.contacts.clock.Now()
	j.Error = err.Error()
	switch wecom.Classify(err) {
	case wecom.ActionPermanent, wecom.ActionConfig:
		j.Status, j.Attempts, j.ProcessedAt = model.StatusFailed, 1, &now
		j.Error = livecode.JobError(err).Error()
		f.contacts.log.Error("failed", "type", j.Kind, "key", j.Key, "reason", j.Error)
	case wecom.ActionDefer:
		wait, _ := wecom.RetryAfter(err)
		j.AvailableAt = now.Add(max(wait, time.Second))
	default:
		j.Attempts, j.AvailableAt = 1, now.Add(stepRetryAfter)
	}
	return j
}

// split hands the follow-up's steps to the jobs it replaces, after the
// profile could not be fetched: the fetch retries on its own, and the
// remark, tags and lead go ahead without it.
func (f FollowUps) split(ctx context.Context, j *model.Job, p *followUpPayload, cause error) error {
	jobs := []*model.Job{p.stepJob(j.CorpID, JobFetchProfile, p.relPayload)}
	if p.Remark != nil {
		jobs = append(jobs, p.stepJob(j.CorpID, JobRemark, *p.Remark))
	}
	if len(p.Tags) > 0 {
		jobs = append(jobs, p.stepJob(j.CorpID, livecode.JobMarkTag, livecode.TagJob{RelationRef: p.relPayload, Tags: p.Tags}))
	}
	jobs = append(jobs, lead.ActivityJob(j.CorpID, p.Activity))
	if err := f.contacts.store.EnqueueJobs(ctx, jobs...); err != nil {
		return err
	}
	f.contacts.log.Warn("profile fetch failed; follow-up split into its steps", "job", j.ID, "err", cause)
	f.contacts.jobs.Notify()
	return nil
}

// profileOf is the profile of a fetched contact, and the remark and tag
// names the staff member userID gave them.
func profileOf(d *wecom.ExternalContactDetail, userID string) (prof model.ContactProfile, remark string, tags []string) {
	prof = model.ContactProfile{Name: d.Contact.Name, Avatar: d.Contact.Avatar, UnionID: d.Contact.UnionID,
		CorpName: d.Contact.CorpName, Type: d.Contact.Type, Gender: d.Contact.Gender}
	tags = []string{}
	for _, fu := range d.FollowUsers {
		if fu.UserID == userID {
			tags = tags[:0]
			for _, t := range fu.Tags {
				tags = append(tags, t.TagName)
			}
			remark = fu.Remark
		}
	}
	return prof, remark, tags
}

// tagsJSON is a relation's tags column: the distinct names, sorted.
func tagsJSON(names []string) string {
	set := map[string]bool{}
	out := []string{}
	for _, n := range names {
		if !set[n] {
			set[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	b, _ := json.Marshal(out)
	return string(b)
}

// tagIDs are the WeCom ids of refs that have one.
func tagIDs(refs []livecode.TagRef) []string {
	out := make([]string, 0, len(refs))
	for _, t := range refs {
		if t.ID != "" {
			out = append(out, t.ID)
		}
	}
	return out
}
