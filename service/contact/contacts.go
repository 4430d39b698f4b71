package contact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom"
)

// welcomeWindow is WeCom's: a welcome_code is good for 20 s after the event.
const welcomeWindow = 20 * time.Second

// welcomeProbeEvery is the longest a welcome waits between two attempts
// while a rate limit holds send_welcome_msg.
const welcomeProbeEvery = time.Second

// Contacts handles external-contact events: the welcome first, then one
// transaction that records the contact, relation, counts and stats and
// enqueues each side effect (profile, remark, tags) as its own job.
type Contacts struct {
	store   Store
	clients livecode.Clients
	cache   *channelcode.CodeCache
	codes   *channelcode.ChannelCodes
	jobs    queue.Wake
	clock   clock.Clock
	log     *slog.Logger
	// stores attributes adds through store codes (s: states).
	stores *storecode.StoreCodes

	welcomes       *prometheus.CounterVec
	welcomeLatency prometheus.Histogram
}

// NewContacts builds the service; jobs wakes the job runner.
func NewContacts(store Store, clients livecode.Clients, cache *channelcode.CodeCache, codes *channelcode.ChannelCodes, stores *storecode.StoreCodes, jobs queue.Wake,
	reg prometheus.Registerer, clk clock.Clock, log *slog.Logger) *Contacts {
	if log == nil {
		log = slog.Default()
	}
	c := &Contacts{store: store, clients: clients, cache: cache, codes: codes, stores: stores, jobs: jobs, clock: clk,
		log: log.With("component", "contacts"),
		welcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_welcomes_total",
			Help: "Welcome messages by outcome (sent, failed, unknown, expired, no_code, no_welcome). unknown: WeCom did not answer before the window closed; it may have delivered.",
		}, []string{"outcome"}),
		welcomeLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_welcome_latency_seconds",
			Help:    "Time from the add event's CreateTime to WeCom accepting the welcome. CreateTime has whole seconds, so this reads up to 1 s high.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 3, 5, 8, 13, 20},
		}),
	}
	if reg != nil {
		reg.MustRegister(c.welcomes, c.welcomeLatency)
	}
	return c
}

// OnAdd handles a customer added through any way (a full or half add):
// the welcome first, within WeCom's window, then the contact, the relation,
// the counts and the follow-up job.
func (c *Contacts) OnAdd(ctx context.Context, ev *queue.InboundEvent) error {
	if ev.UserID == "" || ev.ExternalUserID == "" {
		return queue.Permanent(errors.New("add event without UserID or ExternalUserID"))
	}
	var code *channelcode.CodeView
	if strings.HasPrefix(ev.State, "c:") {
		code = c.cache.ByState(ctx, ev.CorpID, ev.State)
	}
	at := ev.OccurredAt()

	// 1. The welcome, before anything else touches the database or WeCom.
	welcome := c.sendWelcome(ctx, ev, code, at)

	// 2. Everything else, once, in one transaction.
	rec := model.AddRecord{CorpID: ev.CorpID, EventID: ev.ID, UserID: ev.UserID, ExternalUserID: ev.ExternalUserID,
		State: queue.Clip(ev.State, 64), Source: webhook.SourceUnknown, HalfAdded: ev.ChangeType == wecom.ChangeAddHalfContact, At: at,
		Detail: welcome}
	rp := relPayload{UserID: ev.UserID, ExternalUserID: ev.ExternalUserID}
	// One follow-up job: the profile first (the remark's {name} and the
	// lead's rules need it), then the remark, the code's tags and the
	// lead's activity (followup.go).
	fu := followUpPayload{relPayload: rp, EventID: ev.ID}
	activity := lead.Activity{Trigger: lead.TriggerContactAdded, Key: fmt.Sprintf("event:%d", ev.ID), ExternalUserID: ev.ExternalUserID,
		UserID: ev.UserID, State: queue.Clip(ev.State, 64), At: at}
	if code != nil {
		activity.CodeID = code.ID
	} else {
		if _, storeID, ok := c.stores.ByState(ev.CorpID, ev.State); ok {
			rec.Source, activity.StoreID = webhook.SourceStore, storeID
		}
	}
	fu.Activity = activity
	if code != nil {
		rec.CodeID, rec.Source = code.ID, webhook.SourceChannel
		day := code.Roster.LocalDay(at)
		rec.StatDay = day
		// Every add counts toward the cap; in precise mode it takes the place
		// of the landing-page pick that led to it.
		rec.CountDay, rec.ConsumeHold = day, code.Mode == channelcode.ModePrecise
		if code.RemarkTemplate != "" {
			fu.Remark = &remarkPayload{relPayload: rp, Template: code.RemarkTemplate, CodeName: code.Name, Day: day}
		}
		fu.Tags = code.Tags
	}
	rec.JobsFor = func(contact *model.Contact) []*model.Job {
		p := fu
		p.ContactID = contact.ID
		return []*model.Job{followUpJob(ev.CorpID, p)}
	}
	rec.Events = func(contact *model.Contact) []model.OutboxEvent {
		var label *webhook.CodeLabel
		if code != nil {
			label = &webhook.CodeLabel{ID: code.ID, Name: code.Name, Folder: code.Folder}
		}
		return []model.OutboxEvent{webhook.ContactAddedEvent(rec, contact, label)}
	}
	rctx := ctx
	if code != nil && code.Mode == channelcode.ModeRandom && hasCap(code.Roster, ev.UserID) {
		// A capped member may need the way rewritten after the add: the
		// event is finished after that, not with the add.
		rctx = model.WithoutFinish(ctx)
	}
	applied, count, _, err := c.store.RecordAdd(rctx, rec)
	if err != nil {
		return err
	}
	if !applied {
		return nil
	}
	c.jobs.Notify()
	if code != nil && code.Mode == channelcode.ModeRandom && capReached(code.Roster, ev.UserID, count) {
		// Take them off the contact way now rather than at the next tick.
		if err := c.codes.RequestSync(ctx, ev.CorpID, code.ID); err != nil {
			return err
		}
	}
	return nil
}

// hasCap reports whether a member of the roster has a daily cap.
func hasCap(r livecode.Roster, userID string) bool {
	for _, m := range r.Members {
		if m.UserID == userID {
			return m.DailyCap > 0
		}
	}
	return false
}

func capReached(r livecode.Roster, userID string, count int) bool {
	for _, m := range r.Members {
		if m.UserID == userID {
			return m.DailyCap > 0 && count >= m.DailyCap
		}
	}
	return false
}

// sendWelcome sends the code's welcome within WeCom's window and returns a
// one-line outcome for the contact's timeline. It never fails the event: a
// welcome that cannot be sent in time can never be sent.
func (c *Contacts) sendWelcome(ctx context.Context, ev *queue.InboundEvent, code *channelcode.CodeView, at time.Time) string {
	switch {
	case ev.WelcomeCode == "":
		c.welcomes.WithLabelValues("no_code").Inc()
		return "no welcome code (a console welcome applies, or they chatted before)"
	case code == nil:
		c.welcomes.WithLabelValues("no_welcome").Inc()
		return "no welcome: the state is not one of our channel codes"
	}
	// CreateTime has whole seconds: the code was issued in [at, at+1s). An
	// attempt starts only with a second in hand before the earliest possible
	// expiry; once sent, a request may run until the latest possible expiry,
	// because cutting it short cannot take back a welcome WeCom accepted,
	// it only loses the answer.
	deadline := at.Add(welcomeWindow - time.Second)
	hardStop := at.Add(welcomeWindow + time.Second)
	if !c.clock.Now().Before(deadline) {
		outcome, detail := tooLate(ev, deadline)
		c.welcomes.WithLabelValues(outcome).Inc()
		return detail
	}
	name := ""
	if code.NeedsName() {
		name = c.customerName(ctx, ev, deadline)
	}
	msg, ok := code.Welcome(at, name)
	if !ok {
		c.welcomes.WithLabelValues("no_welcome").Inc()
		return "no welcome configured"
	}
	msg.WelcomeCode = ev.WelcomeCode
	client, err := c.clients(ev.CorpID)
	if err != nil {
		c.welcomes.WithLabelValues("failed").Inc()
		return "welcome failed: " + err.Error()
	}
	wctx, cancel := clock.WithDeadline(ctx, c.clock, hardStop)
	defer cancel()
	// A held API lets this call go as its probe when the hold outlasts the
	// window, so a rate limit never costs a welcome the rest of its window.
	wctx = wecom.WithAnswerBy(wctx, deadline)
	for attempt := 0; ; attempt++ {
		err = client.SendWelcome(wctx, msg)
		if err == nil {
			c.welcomes.WithLabelValues("sent").Inc()
			c.welcomeLatency.Observe(c.clock.Now().Sub(at).Seconds())
			return "welcome sent"
		}
		var ae *wecom.APIError
		if errors.As(err, &ae) && ae.Code == wecom.CodeWelcomeCodeExpired {
			// WeCom's word that the window had closed: too late, not failed.
			c.welcomes.WithLabelValues("expired").Inc()
			return "welcome not sent: WeCom says the welcome code has expired (41050)"
		}
		if errors.As(err, &ae) && ae.Code == wecom.CodeWelcomeAlreadySent {
			// A re-run of this event after a crash: WeCom already has it.
			c.welcomes.WithLabelValues("sent").Inc()
			return "welcome already delivered"
		}
		action := wecom.Classify(err)
		if action != wecom.ActionRetry && action != wecom.ActionDefer {
			break
		}
		wait := 200 * time.Millisecond << min(attempt, 4)
		if d, ok := wecom.RetryAfter(err); ok && action == wecom.ActionDefer {
			// A rate limit: try again when it lifts, but at least every
			// second, since a held API takes one probe a second from
			// callers whose window ends before the hold does.
			wait = min(max(d, 50*time.Millisecond), welcomeProbeEvery)
		}
		left := deadline.Sub(c.clock.Now())
		if left <= 0 {
			break
		}
		wait = min(wait, left)
		select {
		case <-c.clock.After(wait):
		case <-wctx.Done():
		}
		if wctx.Err() != nil {
			break
		}
	}
	if wctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		// The request was on its way when the window closed: WeCom may
		// have delivered it. Say so rather than report a failure.
		c.welcomes.WithLabelValues("unknown").Inc()
		c.log.Warn("welcome outcome unknown: no answer before the window closed", "event_id", ev.ID, "code", code.ID, "err", err)
		return "welcome outcome unknown: WeCom did not answer before the 20 s window closed (it may have been delivered)"
	}
	c.welcomes.WithLabelValues("failed").Inc()
	c.log.Warn("welcome failed", "event_id", ev.ID, "code", code.ID, "err", err)
	return "welcome failed: " + err.Error()
}

// tooLate tells what became of the welcome of an event handled after its
// window: expired, unless an earlier attempt at the event was made while
// the window was still open (its replica died or it failed after the
// welcome): that attempt may have sent it, so the outcome is unknown.
func tooLate(ev *queue.InboundEvent, deadline time.Time) (outcome, detail string) {
	if ev.Attempt > 1 && ev.ReceivedAt.Before(deadline) {
		return "unknown", "welcome outcome unknown: an earlier attempt at this event, made within the 20 s window, may have sent it"
	}
	return "expired", "welcome not sent: the 20 s window had passed when the event was handled"
}

// customerName fetches the customer's name for {name}, giving up early
// enough that the welcome still goes out in time (with the name left blank).
func (c *Contacts) customerName(ctx context.Context, ev *queue.InboundEvent, deadline time.Time) string {
	client, err := c.clients(ev.CorpID)
	if err != nil {
		return ""
	}
	limit := min(3*time.Second, deadline.Sub(c.clock.Now())-2*time.Second)
	if limit <= 0 {
		return ""
	}
	fctx, cancel := clock.WithDeadline(ctx, c.clock, c.clock.Now().Add(limit))
	defer cancel()
	d, err := client.GetExternalContact(fctx, ev.ExternalUserID, "")
	if err != nil {
		return ""
	}
	return livecode.ClipRunes(d.Contact.Name, 20)
}

// OnDelFollowUser records that the customer deleted the staff member.
func (c *Contacts) OnDelFollowUser(ctx context.Context, ev *queue.InboundEvent) error {
	return c.recordLoss(ctx, ev, model.RelationLost, "customer_deleted")
}

// OnDelContact records that the staff member deleted the customer (or that
// the customer was transferred to another staff member).
func (c *Contacts) OnDelContact(ctx context.Context, ev *queue.InboundEvent) error {
	if ev.Source == "DELETE_BY_TRANSFER" {
		return c.recordLoss(ctx, ev, model.RelationTransferred, "transferred")
	}
	return c.recordLoss(ctx, ev, model.RelationDeleted, "staff_deleted")
}

func (c *Contacts) recordLoss(ctx context.Context, ev *queue.InboundEvent, status, reason string) error {
	if ev.UserID == "" || ev.ExternalUserID == "" {
		return queue.Permanent(errors.New("event without UserID or ExternalUserID"))
	}
	at := ev.OccurredAt()
	rec := model.LossRecord{CorpID: ev.CorpID, EventID: ev.ID, UserID: ev.UserID, ExternalUserID: ev.ExternalUserID,
		Status: status, Reason: reason, At: at}
	if status != model.RelationTransferred {
		rec.Jobs = []*model.Job{lead.ActivityJob(ev.CorpID, lead.Activity{Trigger: lead.TriggerLost, Key: fmt.Sprintf("event:%d", ev.ID),
			ExternalUserID: ev.ExternalUserID, UserID: ev.UserID, At: at})}
		rec.StatDay = func(codeID uint64) string {
			for _, v := range c.cache.Snapshot() {
				if v.ID == codeID {
					return v.Roster.LocalDay(at)
				}
			}
			return livecode.Roster{}.LocalDay(at)
		}
	}
	rec.Events = func(rel *model.Relation) []model.OutboxEvent {
		return []model.OutboxEvent{webhook.ContactLostEvent(rec, rel)}
	}
	changed, err := c.store.RecordLoss(ctx, rec)
	if err != nil {
		return err
	}
	if !changed {
		return queue.Ignore("no such relation on record")
	}
	return nil
}

// OnEdit refreshes the profile after a change made in the WeCom client.
func (c *Contacts) OnEdit(ctx context.Context, ev *queue.InboundEvent) error {
	if ev.ExternalUserID == "" {
		return queue.Permanent(errors.New("edit event without ExternalUserID"))
	}
	err := c.store.EnqueueJobs(ctx, &model.Job{CorpID: ev.CorpID, Kind: JobFetchProfile, Key: fmt.Sprintf("%s:%d", JobFetchProfile, ev.ID),
		OrderKey: "c:" + ev.ExternalUserID, Payload: queue.EncodePayload(relPayload{UserID: ev.UserID, ExternalUserID: ev.ExternalUserID})})
	if err != nil {
		return err
	}
	c.jobs.Notify()
	return nil
}

type relPayload = livecode.RelationRef

type remarkPayload struct {
	relPayload
	Template string `json:"template"`
	CodeName string `json:"code_name"`
	Day      string `json:"day"`
}

// RunFetchProfile runs a fetch_profile job: the customer's profile from
// WeCom onto the contact and its lead.
func (c *Contacts) RunFetchProfile(ctx context.Context, j *model.Job) error {
	var p relPayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	client, err := c.clients(j.CorpID)
	if err != nil {
		return queue.Permanent(err)
	}
	d, err := client.GetExternalContact(ctx, p.ExternalUserID, "")
	if err != nil {
		return livecode.JobError(err)
	}
	prof, remark, tags := profileOf(d, p.UserID)
	if err := c.store.UpdateContactProfile(ctx, j.CorpID, p.ExternalUserID, prof, p.UserID, remark, tagsJSON(tags)); err != nil {
		return err
	}
	// The lead holds a copy of the profile: it takes this one after the
	// contact's jobs queued before (its own add among them).
	err = c.store.EnqueueJobs(ctx, lead.ActivityJob(j.CorpID, lead.Activity{Trigger: lead.TriggerProfileFetched,
		Key: fmt.Sprintf("profile:%d", j.ID), ExternalUserID: p.ExternalUserID, UserID: p.UserID, At: c.clock.Now()}))
	if err != nil {
		return err
	}
	c.jobs.Notify()
	return nil
}

// RunRemark runs a remark job: the code's remark template, filled, as the
// staff member's remark on the customer.
func (c *Contacts) RunRemark(ctx context.Context, j *model.Job) error {
	var p remarkPayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	name := ""
	if ct, err := c.store.ContactByExternalID(ctx, j.CorpID, p.ExternalUserID); err == nil {
		name = ct.Name
	}
	remark := channelcode.FillRemark(p.Template, name, p.CodeName, p.Day)
	client, err := c.clients(j.CorpID)
	if err != nil {
		return queue.Permanent(err)
	}
	if err := client.Remark(ctx, wecom.RemarkUpdate{UserID: p.UserID, ExternalUserID: p.ExternalUserID, Remark: &remark}); err != nil {
		return livecode.JobError(err)
	}
	return c.store.SetRelationRemark(ctx, j.CorpID, p.UserID, p.ExternalUserID, remark)
}

// RunMarkTag runs a mark_tag job: tags added to and removed from a relation
// in WeCom, then kept on the relation.
func (c *Contacts) RunMarkTag(ctx context.Context, j *model.Job) error {
	var p livecode.TagJob
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	add, remove := tagIDs(p.Tags), tagIDs(p.Remove)
	if len(add)+len(remove) == 0 {
		return queue.Ignore("no tag ids")
	}
	client, err := c.clients(j.CorpID)
	if err != nil {
		return queue.Permanent(err)
	}
	if err := client.MarkTag(ctx, p.UserID, p.ExternalUserID, add, remove); err != nil {
		return livecode.JobError(err)
	}
	// Mirror the change on the relation's record.
	rels, err := c.store.RelationsOf(ctx, j.CorpID, p.ExternalUserID)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	for _, r := range rels {
		if r.UserID == p.UserID {
			var cur []string
			_ = json.Unmarshal([]byte(r.Tags), &cur)
			for _, n := range cur {
				set[n] = true
			}
		}
	}
	for _, t := range p.Tags {
		set[t.Name] = true
	}
	for _, t := range p.Remove {
		delete(set, t.Name)
	}
	all := make([]string, 0, len(set))
	for n := range set {
		all = append(all, n)
	}
	return c.store.SetRelationTags(ctx, j.CorpID, p.UserID, p.ExternalUserID, tagsJSON(all))
}

// List returns contacts. A staff principal sees only the contacts they
// follow, and may not ask for another staff member's (?staff=).
func (c *Contacts) List(ctx context.Context, p *auth.Principal, q ContactQuery) ([]ContactView, error) {
	f := q.filter()
	if p.IsStaff() {
		if p.UserID == "" {
			return nil, lead.ErrNotLinked
		}
		if f.UserID != "" && f.UserID != p.UserID {
			return nil, lead.ErrForbidden
		}
		// Code and tag filters then read the member's own relations too.
		f.UserID, f.Follower = p.UserID, p.UserID
	}
	rows, err := c.store.ListContacts(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]ContactView, 0, len(rows))
	for i := range rows {
		out = append(out, viewContact(&rows[i]))
	}
	return out, nil
}

// Get returns a contact with relations and timeline. A staff principal gets
// only a contact they follow (another's is not found, not even its
// existence), with their own relations and the timeline's entries that are
// theirs or no one's.
func (c *Contacts) Get(ctx context.Context, p *auth.Principal, corpID string, id uint64) (*ContactDetailView, error) {
	d, err := c.store.GetContact(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	if !p.IsStaff() {
		return viewContactDetail(d), nil
	}
	if !follows(p, d.Relations) {
		return nil, apierr.ErrNotFound
	}
	rels := d.Relations[:0]
	for _, r := range d.Relations {
		if r.UserID == p.UserID {
			rels = append(rels, r)
		}
	}
	d.Relations = rels
	tl := d.Timeline[:0]
	for _, e := range d.Timeline {
		if e.UserID == "" || e.UserID == p.UserID {
			tl = append(tl, e)
		}
	}
	d.Timeline = tl
	return viewContactDetail(d), nil
}

// follows reports whether p's staff member follows the contact of rels (a
// relation of theirs not handed over to someone else).
func follows(p *auth.Principal, rels []model.Relation) bool {
	if p.UserID == "" {
		return false
	}
	for _, r := range rels {
		if r.UserID == p.UserID && r.Status != model.RelationTransferred {
			return true
		}
	}
	return false
}
