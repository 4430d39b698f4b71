package contact

import (
	"encoding/json"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// Views: rows as the admin API shows them. The store's structs carry no JSON
// names; what the API renders, and under which names, is said here.

// ContactView is a contact.
type ContactView struct {
	ID               uint64          `json:"id"`
	CorpID           string          `json:"corp_id"`
	ExternalUserID   string          `json:"external_userid"`
	Name             string          `json:"name"`
	Avatar           string          `json:"avatar,omitempty"`
	Type             int             `json:"type"`
	Gender           int             `json:"gender"`
	UnionID          string          `json:"unionid,omitempty"`
	CorpName         string          `json:"corp_name,omitempty"`
	Source           string          `json:"source"`
	SourceCodeID     uint64          `json:"source_code_id,omitempty"`
	State            string          `json:"state,omitempty"`
	FirstSeenAt      wire.Timestamp  `json:"first_seen_at"`
	UpdatedAt        wire.Timestamp  `json:"updated_at"`
	ProfileFetchedAt *wire.Timestamp `json:"profile_fetched_at,omitempty"`
	// ErasedAt is set when the customer's personal data was erased.
	ErasedAt *wire.Timestamp `json:"erased_at,omitempty"`
}

func viewContact(c *model.Contact) ContactView {
	return ContactView{ID: c.ID, CorpID: c.CorpID, ExternalUserID: c.ExternalUserID, Name: c.Name, Avatar: c.Avatar,
		Type: c.Type, Gender: c.Gender, UnionID: c.UnionID, CorpName: c.CorpName, Source: c.Source,
		SourceCodeID: c.SourceCodeID, State: c.State, FirstSeenAt: wire.At(c.FirstSeenAt), UpdatedAt: wire.At(c.UpdatedAt),
		ProfileFetchedAt: wire.AtPtr(c.ProfileFetchedAt), ErasedAt: wire.AtPtr(c.ErasedAt)}
}

// RelationView is one staff member's follow of a contact.
type RelationView struct {
	ID             uint64          `json:"id"`
	UserID         string          `json:"userid"`
	ExternalUserID string          `json:"external_userid"`
	ContactID      uint64          `json:"contact_id"`
	CodeID         uint64          `json:"code_id,omitempty"`
	State          string          `json:"state,omitempty"`
	Remark         string          `json:"remark,omitempty"`
	Status         string          `json:"status"`
	HalfAdded      bool            `json:"half_added,omitempty"`
	AddedAt        wire.Timestamp  `json:"added_at"`
	LostAt         *wire.Timestamp `json:"lost_at,omitempty"`
	LossReason     string          `json:"loss_reason,omitempty"`
	UpdatedAt      wire.Timestamp  `json:"updated_at"`
}

// TimelineView is one thing that happened to a contact.
type TimelineView struct {
	ID      uint64         `json:"id"`
	At      wire.Timestamp `json:"at"`
	Kind    string         `json:"kind"`
	UserID  string         `json:"userid,omitempty"`
	CodeID  uint64         `json:"code_id,omitempty"`
	Detail  string         `json:"detail,omitempty"`
	EventID *uint64        `json:"event_id,omitempty"`
}

func viewRelation(r *model.Relation) RelationView {
	return RelationView{ID: r.ID, UserID: r.UserID, ExternalUserID: r.ExternalUserID, ContactID: r.ContactID,
		CodeID: r.CodeID, State: r.State, Remark: r.Remark, Status: r.Status, HalfAdded: r.HalfAdded, AddedAt: wire.At(r.AddedAt),
		LostAt: wire.AtPtr(r.LostAt), LossReason: r.LossReason, UpdatedAt: wire.At(r.UpdatedAt)}
}

func viewTimelineEntry(e *model.TimelineEntry) TimelineView {
	return TimelineView{ID: e.ID, At: wire.At(e.At), Kind: e.Kind, UserID: e.UserID, CodeID: e.CodeID, Detail: e.Detail,
		EventID: e.EventID}
}

// FollowView is a relation with the tags its staff member set, and its loss
// reason as a message when it was lost.
type FollowView struct {
	LossMessage *explain.Message `json:"loss_message,omitempty"`
	Relation    RelationView     `json:"relation"`
	Tags        json.RawMessage  `json:"tags"`
}

// ContactDetailView is a contact with every follow and its timeline, each
// entry's detail as a message.
type ContactDetailView struct {
	Contact   ContactView    `json:"contact"`
	Relations []FollowView   `json:"relations"`
	Timeline  []TimelineItem `json:"timeline"`
}

func viewContactDetail(d *model.ContactDetail) *ContactDetailView {
	v := &ContactDetailView{Contact: viewContact(&d.Contact), Relations: make([]FollowView, 0, len(d.Relations)),
		Timeline: ExplainTimelineEntries(d.Timeline)}
	for _, r := range d.Relations {
		f := FollowView{Tags: json.RawMessage(r.Tags), Relation: viewRelation(&r)}
		if r.Tags == "" {
			f.Tags = json.RawMessage("[]")
		}
		if r.LossReason != "" {
			m := explain.Loss(r.LossReason)
			f.LossMessage = &m
		}
		v.Relations = append(v.Relations, f)
	}
	return v
}

// TimelineItem is a contact's timeline entry with its detail as a message.
type TimelineItem struct {
	TimelineView
	Message *explain.Message `json:"message,omitempty"`
}

// ExplainTimelineEntries gives each entry its message.
func ExplainTimelineEntries(list []model.TimelineEntry) []TimelineItem {
	out := make([]TimelineItem, len(list))
	for i, e := range list {
		out[i].TimelineView = viewTimelineEntry(&e)
		if e.Detail != "" {
			m := explain.Timeline(e.Detail)
			out[i].Message = &m
		}
	}
	return out
}

// ContactQuery selects contacts by the code they came through, the staff
// member who follows them, a tag and a name search.
type ContactQuery struct {
	CorpID  string
	CodeID  uint64
	UserID  string
	Tag     string
	Q       string
	AfterID uint64
	Limit   int
}

func (q ContactQuery) filter() model.ContactFilter {
	return model.ContactFilter{CorpID: q.CorpID, CodeID: q.CodeID, UserID: q.UserID, Tag: q.Tag, Q: q.Q,
		AfterID: q.AfterID, Limit: q.Limit}
}
