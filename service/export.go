package service

import (
	"context"
	"errors"
	"time"

	"github.com/leadgate/scrm-gateway/model"
)

// ContactExport is everything the gateway holds about one customer: the
// profile, each staff member's relation (remark, tags), the timeline, the
// lead with its stage history, and the WeCom callbacks about them as
// received. It answers a data subject's request for their data.
type ContactExport struct {
	ExportedAt time.Time             `json:"exported_at"`
	Contact    model.Contact         `json:"contact"`
	Relations  []model.Relation      `json:"relations"`
	Tags       map[uint64]jsonTags   `json:"relation_tags"`
	Timeline   []model.TimelineEntry `json:"timeline"`
	Lead       *Lead                 `json:"lead"`
	Events     []ExportedEvent       `json:"events"`
}

// jsonTags is a relation's tags as stored (a JSON array).
type jsonTags string

func (j jsonTags) MarshalJSON() ([]byte, error) {
	if j == "" {
		return []byte("[]"), nil
	}
	return []byte(j), nil
}

// ExportedEvent is one stored callback about the customer.
type ExportedEvent struct {
	ID         uint64    `json:"id"`
	Type       string    `json:"type"`
	ReceivedAt time.Time `json:"received_at"`
	Payload    string    `json:"payload"`
}

// maxExportedEvents bounds the callbacks in one export.
const maxExportedEvents = 10000

// Export gathers everything held about a contact.
func (c *Contacts) Export(ctx context.Context, corpID string, id uint64) (*ContactExport, error) {
	d, err := c.store.GetContact(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	out := &ContactExport{ExportedAt: c.now(), Contact: d.Contact, Relations: d.Relations, Timeline: d.Timeline,
		Tags: map[uint64]jsonTags{}, Events: []ExportedEvent{}}
	for _, r := range d.Relations {
		out.Tags[r.ID] = jsonTags(r.Tags)
	}
	leads, err := c.store.ListLeads(ctx, model.LeadFilter{CorpID: corpID, ContactID: id, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(leads) == 1 {
		l, tr, err := c.store.GetLead(ctx, corpID, leads[0].ID)
		if err != nil && !errors.Is(err, model.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			if out.Lead, err = viewLead(l, tr); err != nil {
				return nil, err
			}
		}
	}
	evs, err := c.store.EventsOfContact(ctx, corpID, d.Contact.ExternalUserID, maxExportedEvents)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		out.Events = append(out.Events, ExportedEvent{ID: e.ID, Type: e.Type, ReceivedAt: e.ReceivedAt, Payload: e.Payload})
	}
	return out, nil
}

// Erasure is the outcome of erasing a contact.
type Erasure struct {
	ContactID uint64 `json:"contact_id"`
	LeadID    uint64 `json:"lead_id,omitempty"`
	// Erased is false when the contact had been erased before: nothing
	// changed and no webhook was sent again.
	Erased bool `json:"erased"`
}

// Erase removes a customer's personal data everywhere it is held and tells
// the CRM (contact.erased) in the same transaction; see model.EraseContact.
func (c *Contacts) Erase(ctx context.Context, corpID string, id uint64) (*Erasure, error) {
	erased, leadID, err := c.store.EraseContact(ctx, corpID, id, contactErasedEvent)
	if err != nil {
		return nil, err
	}
	return &Erasure{ContactID: id, LeadID: leadID, Erased: erased}, nil
}
