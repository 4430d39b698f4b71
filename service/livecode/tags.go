package livecode

import (
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

// JobMarkTag is the job kind that adds and removes a relation's tags in
// WeCom and in its record: queued by a code's follow-up and by tag rules,
// run by the contacts service.
const JobMarkTag = "mark_tag"

// TagRef is a tag by name with its WeCom id.
type TagRef struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// RelationRef names one follow: the staff member and the customer.
type RelationRef struct {
	UserID         string `json:"userid"`
	ExternalUserID string `json:"external_userid"`
}

// TagJob is a mark_tag job's payload: it adds Tags to and removes Remove
// from a relation, in WeCom and in the relation's record.
type TagJob struct {
	RelationRef
	Tags   []TagRef `json:"tags"`
	Remove []TagRef `json:"remove,omitempty"`
}

// Catalogue is the corp's tag catalogue as WeCom listed it, one row per tag.
func Catalogue(corpID string, groups []wecom.TagGroup) []model.CorpTag {
	var out []model.CorpTag
	for _, g := range groups {
		for _, t := range g.Tags {
			out = append(out, model.CorpTag{CorpID: corpID, TagID: t.ID, Name: t.Name, GroupID: g.GroupID, GroupName: g.GroupName})
		}
	}
	return out
}
