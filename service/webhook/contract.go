package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// This file is the webhook contract the CRM codes against, in one place:
// the event types, the envelope with its version and event id, every
// payload shape, the source kinds, and how each event is rendered into the
// outbox. It is published as docs/webhooks/*.json and the `webhooks` section
// of docs/openapi.json; model only stores what is rendered here.

// Webhook event types.
const (
	EventLeadCreated      = "lead.created"
	EventLeadUpdated      = "lead.updated"
	EventLeadStageChanged = "lead.stage_changed"
	EventLeadQualified    = "lead.qualified"
	EventLeadMerged       = "lead.merged"
	EventContactAdded     = "contact.added"
	EventContactLost      = "contact.lost"
	EventContactErased    = "contact.erased"
	EventGroupJoined      = "group.joined"
	// EventWebhookTest is sent by `gateway webhook-test` and the admin API's
	// test event; no endpoint subscribes to it.
	EventWebhookTest = "webhook.test"
)

// WebhookEventTypes lists every type an endpoint may subscribe to.
var WebhookEventTypes = []string{
	EventLeadCreated, EventLeadUpdated, EventLeadStageChanged, EventLeadQualified, EventLeadMerged,
	EventContactAdded, EventContactLost, EventContactErased, EventGroupJoined,
}

// ValidWebhookEventType reports whether t is a type an endpoint may subscribe to.
func ValidWebhookEventType(t string) bool { return slices.Contains(WebhookEventTypes, t) }

// Payload schema versions. An endpoint is pinned to the version current
// when it was made (or the one it asked for) and keeps receiving it when a
// later version ships beside it. Within a version fields are only added.
const WebhookVersion = 1

// WebhookVersions are the versions the gateway can render.
var WebhookVersions = []int{1}

// Contact and lead sources: how a customer reached the corp.
const (
	SourceChannel = "channel" // a channel code (live code)
	SourceStore   = "store"   // a store code's nearest store
	SourceGroup   = "group"   // a group watched by a group or store code
	SourceUnknown = "unknown" // none of ours (a contact way or share made elsewhere)
)

// SourceKinds lists every source kind.
var SourceKinds = []string{SourceChannel, SourceStore, SourceGroup, SourceUnknown}

// WebhookEnvelope is the body of every delivery.
type WebhookEnvelope struct {
	// ID is the event id, the same as the webhook-id header: the same on
	// every retry and replay.
	ID      string `json:"id"`
	Type    string `json:"type"`
	Version int    `json:"version"`
	// Timestamp is when the change happened, not when it was sent.
	Timestamp wire.Timestamp `json:"timestamp"`
	Data      any            `json:"data"`
}

// NewEvent makes the outbox entry of one event: data renders its data
// for a version, reading through r what the change itself does not carry.
func NewEvent(corpID, typ, subject string, at time.Time, data func(r model.OutboxReader, version int) (any, error)) model.OutboxEvent {
	return model.OutboxEvent{CorpID: corpID, Type: typ, Subject: subject, At: at,
		Body: func(r model.OutboxReader, m model.OutboxMessage) ([]byte, error) {
			if !slices.Contains(WebhookVersions, m.Version) {
				return nil, fmt.Errorf("no payload version %d (known: %v)", m.Version, WebhookVersions)
			}
			d, err := data(r, m.Version)
			if err != nil {
				return nil, err
			}
			return json.Marshal(WebhookEnvelope{ID: m.ID, Type: typ, Version: m.Version, Timestamp: wire.At(m.At), Data: d})
		}}
}

// --- contact events -------------------------------------------------------------

// WebhookContact is the contact as contact events describe it.
type WebhookContact struct {
	ID             uint64         `json:"id"`
	ExternalUserID string         `json:"external_userid"`
	Name           string         `json:"name"`
	CorpName       string         `json:"corp_name"`
	UnionID        string         `json:"unionid,omitempty"`
	Type           int            `json:"type"`
	Gender         int            `json:"gender"`
	FirstSeenAt    wire.Timestamp `json:"first_seen_at"`
}

// WebhookContactSource is where a contact came from.
type WebhookContactSource struct {
	Kind       string `json:"kind"`
	State      string `json:"state,omitempty"`
	CodeID     uint64 `json:"code_id,omitempty"`
	CodeName   string `json:"code_name,omitempty"`
	CodeFolder string `json:"code_folder,omitempty"`
}

// ContactAddedData is the data of contact.added.
type ContactAddedData struct {
	CorpID      string               `json:"corp_id"`
	Contact     WebhookContact       `json:"contact"`
	StaffUserID string               `json:"staff_userid"`
	Source      WebhookContactSource `json:"source"`
	HalfAdded   bool                 `json:"half_added"`
	AddedAt     wire.Timestamp       `json:"added_at"`
}

// ContactLostData is the data of contact.lost.
type ContactLostData struct {
	CorpID      string               `json:"corp_id"`
	Contact     WebhookContact       `json:"contact"`
	StaffUserID string               `json:"staff_userid"`
	Source      WebhookContactSource `json:"source"`
	// Status is lost (the customer deleted the staff member), deleted (the
	// staff member deleted the customer) or transferred (handed over).
	Status  string         `json:"status"`
	Reason  string         `json:"reason"`
	AddedAt wire.Timestamp `json:"added_at"`
	LostAt  wire.Timestamp `json:"lost_at"`
}

func webhookContact(c *model.Contact) WebhookContact {
	if c == nil {
		return WebhookContact{}
	}
	return WebhookContact{ID: c.ID, ExternalUserID: c.ExternalUserID, Name: c.Name, CorpName: c.CorpName,
		UnionID: c.UnionID, Type: c.Type, Gender: c.Gender, FirstSeenAt: wire.At(c.FirstSeenAt)}
}

// contactSource names a relation's source: its kind, and the channel code
// it came through with the code's name and folder, as label reads them.
func contactSource(label func(codeID uint64) (name, folder string, err error), kind string, codeID uint64, state string) (WebhookContactSource, error) {
	src := WebhookContactSource{Kind: kind, State: state, CodeID: codeID}
	if codeID == 0 {
		if src.Kind == "" {
			src.Kind = SourceUnknown
		}
		return src, nil
	}
	if src.Kind == "" || src.Kind == SourceUnknown {
		src.Kind = SourceChannel
	}
	var err error
	src.CodeName, src.CodeFolder, err = label(codeID)
	return src, err
}

// CodeLabel is a channel code's name and folder as a caller holds them.
type CodeLabel struct {
	ID           uint64
	Name, Folder string
}

// ContactAddedEvent is the contact.added of an add; code is the add's
// channel code as the caller holds it (nil: read its label).
func ContactAddedEvent(rec model.AddRecord, c *model.Contact, code *CodeLabel) model.OutboxEvent {
	contact := webhookContact(c)
	return NewEvent(rec.CorpID, EventContactAdded, "contact:"+rec.ExternalUserID, rec.At, func(r model.OutboxReader, _ int) (any, error) {
		label := r.ChannelCodeLabel
		if code != nil && code.ID == rec.CodeID {
			label = func(uint64) (string, string, error) { return code.Name, code.Folder, nil }
		}
		src, err := contactSource(label, rec.Source, rec.CodeID, rec.State)
		if err != nil {
			return nil, err
		}
		return ContactAddedData{CorpID: rec.CorpID, Contact: contact, StaffUserID: rec.UserID, Source: src,
			HalfAdded: rec.HalfAdded, AddedAt: wire.At(rec.At)}, nil
	})
}

// ContactLostEvent is the contact.lost of a relation's end.
func ContactLostEvent(rec model.LossRecord, rel *model.Relation) model.OutboxEvent {
	return NewEvent(rec.CorpID, EventContactLost, "contact:"+rec.ExternalUserID, rec.At, func(r model.OutboxReader, _ int) (any, error) {
		c, err := r.Contact(rel.ContactID)
		if err != nil {
			return nil, err
		}
		src, err := contactSource(r.ChannelCodeLabel, "", rel.CodeID, rel.State)
		if err != nil {
			return nil, err
		}
		return ContactLostData{CorpID: rec.CorpID, Contact: webhookContact(c), StaffUserID: rec.UserID, Source: src,
			Status: rec.Status, Reason: rec.Reason, AddedAt: wire.At(rel.AddedAt), LostAt: wire.At(rec.At)}, nil
	})
}

// ContactErasedData is the data of contact.erased: the customer's personal
// data was erased here, and the receiver should erase its own copy. Only
// pseudonymous ids remain.
type ContactErasedData struct {
	CorpID         string         `json:"corp_id"`
	ContactID      uint64         `json:"contact_id"`
	ExternalUserID string         `json:"external_userid"`
	LeadID         uint64         `json:"lead_id,omitempty"`
	ErasedAt       wire.Timestamp `json:"erased_at"`
}

// ContactErasedEvent is the contact.erased of an erasure.
func ContactErasedEvent(c *model.Contact, leadID uint64) model.OutboxEvent {
	return NewEvent(c.CorpID, EventContactErased, "contact:"+c.ExternalUserID, *c.ErasedAt, func(model.OutboxReader, int) (any, error) {
		return ContactErasedData{CorpID: c.CorpID, ContactID: c.ID, ExternalUserID: c.ExternalUserID, LeadID: leadID, ErasedAt: wire.At(*c.ErasedAt)}, nil
	})
}

// GroupJoinedData is the data of group.joined.
type GroupJoinedData struct {
	CorpID         string `json:"corp_id"`
	ChatID         string `json:"chat_id"`
	ChatName       string `json:"chat_name,omitempty"`
	ExternalUserID string `json:"external_userid"`
	Owner          string `json:"owner,omitempty"`
	JoinScene      int    `json:"join_scene,omitempty"`
	State          string `json:"state,omitempty"`
	// CodeID is the group code whose pool holds the group; StoreCodeID and
	// StoreID the store code and store whose way the customer came through.
	CodeID      uint64         `json:"code_id,omitempty"`
	StoreCodeID uint64         `json:"store_code_id,omitempty"`
	StoreID     uint64         `json:"store_id,omitempty"`
	LeadID      uint64         `json:"lead_id,omitempty"`
	JoinedAt    wire.Timestamp `json:"joined_at"`
}

// GroupJoinedEvent is the group.joined of a customer's new join.
func GroupJoinedEvent(ch model.ChatChange, m model.MemberChange) model.OutboxEvent {
	return NewEvent(ch.CorpID, EventGroupJoined, "contact:"+m.MemberID, ch.At, func(r model.OutboxReader, _ int) (any, error) {
		d := GroupJoinedData{CorpID: ch.CorpID, ChatID: ch.ChatID, ChatName: ch.ChatName, ExternalUserID: m.MemberID,
			Owner: ch.Owner, JoinScene: m.JoinScene, State: m.State, CodeID: m.GroupCodeID, StoreCodeID: m.StoreCodeID,
			StoreID: m.StoreID, JoinedAt: wire.At(m.JoinedAt)}
		if m.JoinedAt.IsZero() {
			d.JoinedAt = wire.At(ch.At)
		}
		var err error
		d.LeadID, err = r.LeadIDOfCustomer(ch.CorpID, m.MemberID)
		return d, err
	})
}

// --- lead events -------------------------------------------------------------

// LeadEventData is the data of every lead.* event: the whole lead, and what
// the event adds to it.
type LeadEventData struct {
	*Lead
	// PreviousStage and Transition: lead.stage_changed and lead.qualified,
	// the stage the lead left and the move's reason and actor.
	PreviousStage string          `json:"previous_stage,omitempty"`
	Transition    *LeadTransition `json:"transition,omitempty"`
	// Changes: lead.updated, the fields that changed (names as in the lead)
	// with their previous values.
	Changes []LeadChange `json:"changes,omitempty"`
	// Merged: lead.merged, the lead that was absorbed into this one.
	Merged *MergedLead `json:"merged,omitempty"`
}

// LeadChange is one field of a lead.updated and its value before the change.
type LeadChange struct {
	Field    string `json:"field"`
	Previous any    `json:"previous"`
}

// MergedLead is the absorbed lead of a lead.merged: the CRM's answers on
// its id apply to the kept lead from now on.
type MergedLead struct {
	ID             uint64 `json:"id"`
	ContactID      uint64 `json:"contact_id"`
	ExternalUserID string `json:"external_userid"`
	Reason         string `json:"reason"`
}

// LeadEvent is a lead.* event with the lead as it is at this point of its
// transaction (the data is rendered now, not at commit).
func LeadEvent(typ string, v *Lead, at time.Time, extra LeadEventData) model.OutboxEvent {
	extra.Lead = v
	return NewEvent(v.CorpID, typ, fmt.Sprintf("lead:%d", v.ID), at, func(r model.OutboxReader, _ int) (any, error) {
		var err error
		v.OwnerName, err = r.StaffName(v.CorpID, v.Owner)
		return extra, err
	})
}

// TestBody is the body of a webhook.test event.
func TestBody(msgID string, now time.Time) ([]byte, error) {
	return json.Marshal(WebhookEnvelope{ID: msgID, Type: EventWebhookTest, Version: WebhookVersion, Timestamp: wire.At(now),
		Data: map[string]any{"message": "a test event from the SCRM gateway; answer 2xx once the signature verifies"}})
}

// CheckVersion validates an endpoint's requested version.
func CheckVersion(v int) error {
	if !slices.Contains(WebhookVersions, v) {
		known := make([]string, len(WebhookVersions))
		for i, x := range WebhookVersions {
			known[i] = fmt.Sprint(x)
		}
		return &apierr.ValidationError{Field: "version", Reason: "unknown payload version; known: " + strings.Join(known, ", ")}
	}
	return nil
}
