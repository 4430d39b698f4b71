package service

import (
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Routes names, for every event type and job kind, the handler that runs
// it. It is the one place that answers "what handles X?": an event type
// ("Event/ChangeType") or job kind missing here is not handled (an event is
// then ignored with "no handler for ...", a job fails).
type Routes struct {
	Events map[string]queue.EventHandler
	Jobs   map[string]queue.JobHandler
}

// NewRoutes builds the routing table from the services that do the work.
func NewRoutes(contacts *contact.Contacts, codes *channelcode.ChannelCodes, groups *groupcode.GroupCodes, stores *storecode.StoreCodes, leads *lead.Leads,
	tags *livecode.TagCatalogue) Routes {
	return Routes{
		Events: map[string]queue.EventHandler{
			// A customer added, deleted or edited (contacts.go): the welcome,
			// then the contact, relation, counts and follow-up jobs.
			eventType(wecom.EventExternalContact, wecom.ChangeAddContact):     contacts.OnAdd,
			eventType(wecom.EventExternalContact, wecom.ChangeAddHalfContact): contacts.OnAdd,
			eventType(wecom.EventExternalContact, wecom.ChangeDelFollowUser):  contacts.OnDelFollowUser,
			eventType(wecom.EventExternalContact, wecom.ChangeDelContact):     contacts.OnDelContact,
			eventType(wecom.EventExternalContact, wecom.ChangeEditContact):    contacts.OnEdit,

			// Customer groups (service/groupcode): joins and leaves through group
			// and store codes, new groups for auto-create pools, dismissals.
			eventType(wecom.EventExternalChat, wecom.ChangeChatUpdate):  groups.OnChatUpdate,
			eventType(wecom.EventExternalChat, wecom.ChangeChatCreate):  groups.OnChatCreate,
			eventType(wecom.EventExternalChat, wecom.ChangeChatDismiss): groups.OnChatDismiss,

			// The corp's tag catalogue changed in WeCom (tagsync.go).
			eventType(wecom.EventExternalTag, wecom.ChangeTagCreate):  tags.OnTagEvent,
			eventType(wecom.EventExternalTag, wecom.ChangeTagUpdate):  tags.OnTagEvent,
			eventType(wecom.EventExternalTag, wecom.ChangeTagDelete):  tags.OnTagEvent,
			eventType(wecom.EventExternalTag, wecom.ChangeTagShuffle): tags.OnTagEvent,
		},
		Jobs: map[string]queue.JobHandler{
			// The follow-up of one add (followup.go): profile, remark, tags
			// and lead in one job, and the steps it hands to jobs of their
			// own (contacts.go; fetch_profile also after an edit).
			contact.JobFollowUp:     contact.NewFollowUps(contacts, leads).Run,
			contact.JobFetchProfile: contacts.RunFetchProfile,
			contact.JobRemark:       contacts.RunRemark,
			livecode.JobMarkTag:     contacts.RunMarkTag,

			// Live codes: the one writer of each WeCom contact or join way.
			channelcode.JobSyncWay:        codes.RunSyncWay,     // service/channelcode
			channelcode.JobUploadMedia:    codes.RunUploadMedia, // service/channelcode
			groupcode.JobSyncJoinWay:      groups.RunSync,       // service/groupcode
			groupcode.JobReconcileJoinWay: groups.RunSync,       // service/groupcode
			storecode.JobSyncStoreWay:     stores.RunSyncWay,    // service/storecode

			// Leads (service/lead): activity, rules and scoring; re-scoring.
			lead.JobLeadActivity: leads.RunActivity,
			lead.JobRescore:      leads.RunRescore,

			// The tag catalogue (tagsync.go).
			livecode.JobSyncTags: tags.RunSync,
		},
	}
}

func eventType(event, change string) string { return event + "/" + change }
