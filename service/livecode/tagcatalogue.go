package livecode

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/wire"
	"github.com/leadgate/scrm-gateway/wecom"
)

// JobSyncTags refreshes a corp's tag catalogue from WeCom.
const JobSyncTags = "sync_tags"

// TagCatalogue keeps each corp's WeCom tag catalogue in step in both
// directions: admins create tags through the API (into WeCom), and changes
// made in the WeCom console arrive as change_external_tag events (plus a
// periodic reconcile, since events can be missed).
type TagCatalogue struct {
	store   TagStore
	clients Clients
	jobs    queue.Wake
}

// NewTagCatalogue builds the service; jobs wakes the job runner.
func NewTagCatalogue(store TagStore, clients Clients, jobs queue.Wake) *TagCatalogue {
	return &TagCatalogue{store: store, clients: clients, jobs: jobs}
}

// OnTagEvent handles a change_external_tag event: the catalogue is read
// again (coalesced).
func (t *TagCatalogue) OnTagEvent(ctx context.Context, ev *queue.InboundEvent) error {
	return t.RequestSync(ctx, ev.CorpID)
}

// RequestSync asks for a full catalogue refresh (coalesced).
func (t *TagCatalogue) RequestSync(ctx context.Context, corpID string) error {
	return RequestSync(ctx, t.store, t.jobs, &model.Job{CorpID: corpID, Kind: JobSyncTags, Key: JobSyncTags, OrderKey: "tags", Payload: "{}"})
}

// RunSync runs a sync_tags job: the corp's tag catalogue read from WeCom.
func (t *TagCatalogue) RunSync(ctx context.Context, j *model.Job) error {
	client, err := t.clients(j.CorpID)
	if err != nil {
		return queue.Permanent(err)
	}
	groups, err := client.GetCorpTags(ctx, nil, nil)
	if err != nil {
		return JobError(err)
	}
	return t.store.ReplaceCorpTags(ctx, j.CorpID, Catalogue(j.CorpID, groups))
}

// tag finds a tag of the catalogue by its WeCom id.
func (t *TagCatalogue) tag(ctx context.Context, corpID, tagID string) (*model.CorpTag, error) {
	list, err := t.store.ListCorpTags(ctx, corpID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].TagID == tagID {
			return &list[i], nil
		}
	}
	return nil, model.ErrNotFound
}

// reread replaces the catalogue with WeCom's after a change made there.
func (t *TagCatalogue) reread(ctx context.Context, corpID string, client *wecom.Client) error {
	groups, err := client.GetCorpTags(ctx, nil, nil)
	if err != nil {
		return AdminError(err)
	}
	return t.store.ReplaceCorpTags(ctx, corpID, Catalogue(corpID, groups))
}

// Rename renames a tag in WeCom and the catalogue; inUse names the tag
// rules that name the tag (they would stop matching), which refuse it.
func (t *TagCatalogue) Rename(ctx context.Context, corpID, tagID, name string, inUse []string) (*TagView, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 30 {
		return nil, &apierr.ValidationError{Field: "name", Reason: "must be 1 to 30 characters"}
	}
	cur, err := t.tag(ctx, corpID, tagID)
	if err != nil {
		return nil, err
	}
	if len(inUse) > 0 {
		return nil, &apierr.ValidationError{Field: "name", Reason: fmt.Sprintf("tag %q is named by tag rules (%s): change them first", cur.Name, strings.Join(inUse, ", "))}
	}
	client, err := t.clients(corpID)
	if err != nil {
		return nil, err
	}
	if err := client.EditCorpTag(ctx, wecom.CorpTagEdit{ID: tagID, Name: &name}); err != nil {
		return nil, AdminError(err)
	}
	if err := t.reread(ctx, corpID, client); err != nil {
		return nil, err
	}
	row, err := t.tag(ctx, corpID, tagID)
	if err != nil {
		return nil, err
	}
	return &viewTags([]model.CorpTag{*row})[0], nil
}

// Delete deletes a tag in WeCom (customers lose it there) and the
// catalogue; inUse as for Rename.
func (t *TagCatalogue) Delete(ctx context.Context, corpID, tagID string, inUse []string) error {
	cur, err := t.tag(ctx, corpID, tagID)
	if err != nil {
		return err
	}
	if len(inUse) > 0 {
		return &apierr.ValidationError{Field: "id", Reason: fmt.Sprintf("tag %q is named by tag rules (%s): change them first", cur.Name, strings.Join(inUse, ", "))}
	}
	client, err := t.clients(corpID)
	if err != nil {
		return err
	}
	if err := client.DeleteCorpTag(ctx, []string{tagID}, nil); err != nil {
		return AdminError(err)
	}
	return t.reread(ctx, corpID, client)
}

// List returns the catalogue.
func (t *TagCatalogue) List(ctx context.Context, corpID string) ([]TagView, error) {
	rows, err := t.store.ListCorpTags(ctx, corpID)
	if err != nil {
		return nil, err
	}
	return viewTags(rows), nil
}

// Create adds tags to a group (made if missing) in WeCom and the catalogue.
func (t *TagCatalogue) Create(ctx context.Context, corpID, group string, names []string) ([]TagView, error) {
	group = strings.TrimSpace(group)
	if group == "" || utf8.RuneCountInString(group) > 30 {
		return nil, &apierr.ValidationError{Field: "group", Reason: "must be 1 to 30 characters"}
	}
	if len(names) == 0 || len(names) > 100 {
		return nil, &apierr.ValidationError{Field: "names", Reason: "give 1 to 100 tag names"}
	}
	var tags []wecom.NewCorpTag
	for i, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || utf8.RuneCountInString(n) > 30 {
			return nil, &apierr.ValidationError{Field: fmt.Sprintf("names[%d]", i), Reason: "must be 1 to 30 characters"}
		}
		tags = append(tags, wecom.NewCorpTag{Name: n})
	}
	client, err := t.clients(corpID)
	if err != nil {
		return nil, err
	}
	g, err := client.AddCorpTag(ctx, wecom.NewCorpTags{GroupName: group, Tags: tags})
	if err != nil {
		return nil, AdminError(err)
	}
	rows := Catalogue(corpID, []wecom.TagGroup{*g})
	if err := t.store.UpsertCorpTags(ctx, rows); err != nil {
		return nil, err
	}
	return viewTags(rows), nil
}

// TagView is one entry of a corp's WeCom tag catalogue.
type TagView struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	GroupID   string         `json:"group_id"`
	GroupName string         `json:"group_name"`
	UpdatedAt wire.Timestamp `json:"updated_at"`
}

func viewTags(tags []model.CorpTag) []TagView {
	out := make([]TagView, 0, len(tags))
	for _, t := range tags {
		out = append(out, TagView{ID: t.TagID, Name: t.Name, GroupID: t.GroupID, GroupName: t.GroupName, UpdatedAt: wire.At(t.UpdatedAt)})
	}
	return out
}
