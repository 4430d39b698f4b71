package contact

import (
	"context"
	"errors"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/audit"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// ContactExport is everything the gateway holds about one customer: the
// profile, each staff member's relation (remark, tags), the timeline, the
// lead with its stage history, and the WeCom callbacks about them as
// received. It answers a data subject's request for their data.
type ContactExport struct {
	ExportedAt wire.Timestamp      `json:"exported_at"`
	Contact    ContactView         `json:"contact"`
	Relations  []RelationView      `json:"relations"`
	Tags       map[uint64]jsonTags `json:"relation_tags"`
	Timeline   []TimelineView      `json:"timeline"`
	Lead       *webhook.Lead       `json:"lead"`
	Events     []ExportedEvent     `json:"events"`
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
	ID         uint64         `json:"id"`
	Type       string         `json:"type"`
	ReceivedAt wire.Timestamp `json:"received_at"`
	Payload    string         `json:"payload"`
}

// maxExportedEvents bounds the callbacks in one export.
const maxExportedEvents = 10000

// Export gathers everything held about a contact.
func (c *Contacts) Export(ctx context.Context, corpID string, id uint64) (*ContactExport, error) {
	d, err := c.store.GetContact(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	out := &ContactExport{ExportedAt: wire.At(c.clock.Now()), Contact: viewContact(&d.Contact), Relations: make([]RelationView, 0, len(d.Relations)),
		Timeline: make([]TimelineView, 0, len(d.Timeline)), Tags: map[uint64]jsonTags{}, Events: []ExportedEvent{}}
	for i := range d.Relations {
		out.Relations = append(out.Relations, viewRelation(&d.Relations[i]))
		out.Tags[d.Relations[i].ID] = jsonTags(d.Relations[i].Tags)
	}
	for i := range d.Timeline {
		out.Timeline = append(out.Timeline, viewTimelineEntry(&d.Timeline[i]))
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
			if out.Lead, err = lead.ViewLead(l, tr); err != nil {
				return nil, err
			}
		}
	}
	evs, err := c.store.EventsOfContact(ctx, corpID, d.Contact.ExternalUserID, maxExportedEvents)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		out.Events = append(out.Events, ExportedEvent{ID: e.ID, Type: e.Type, ReceivedAt: wire.At(e.ReceivedAt), Payload: e.Payload})
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
	erased, leadID, err := c.store.EraseContact(ctx, corpID, id, webhook.ContactErasedEvent)
	if err != nil {
		return nil, err
	}
	return &Erasure{ContactID: id, LeadID: leadID, Erased: erased}, nil
}

// retentionPrincipal is who the audit names for erasures by the retention setting.
var retentionPrincipal = &auth.Principal{Name: "retention (privacy.erase_lost_after)", Role: "system"}

// EraseLostBefore erases every customer whose relations all ended before
// `before` and reports how many it erased; log (may be nil) records each.
func (c *Contacts) EraseLostBefore(ctx context.Context, before time.Time, log *audit.Log) (int, error) {
	n := 0
	for {
		refs, err := c.store.LostContactsBefore(ctx, before, 100)
		if err != nil || len(refs) == 0 {
			return n, err
		}
		progress := false
		for _, r := range refs {
			res, err := c.Erase(ctx, r.CorpID, r.ID)
			if err != nil {
				return n, err
			}
			if res.Erased {
				n, progress = n+1, true
				if err := log.Record(ctx, retentionPrincipal, audit.Erase, audit.Contact, "retention", r.ID); err != nil {
					return n, err
				}
			}
		}
		if !progress {
			return n, nil
		}
	}
}

// EraseLostFor erases every customer lost for longer than after (the
// retention setting, privacy.erase_lost_after) by the clock now.
func (c *Contacts) EraseLostFor(ctx context.Context, after time.Duration, log *audit.Log) (int, error) {
	return c.EraseLostBefore(ctx, c.clock.Now().Add(-after), log)
}

// RunRetention erases customers lost for longer than after, at once and
// then every interval on the contacts' clock, until ctx ends.
func (c *Contacts) RunRetention(ctx context.Context, after, every time.Duration, log *audit.Log) {
	for {
		if n, err := c.EraseLostFor(ctx, after, log); err != nil {
			c.log.Error("erase lost customers", "err", err)
		} else if n > 0 {
			c.log.Info("erased lost customers", "count", n, "lost_for_more_than", after.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(every):
		}
	}
}
