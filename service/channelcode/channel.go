package channelcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/wire"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Channel code modes.
const (
	ModeRandom  = "random"  // WeCom picks among the contact way's users; the gateway rewrites the list
	ModePrecise = "precise" // the landing page picks the exact staff member and shows their own code
)

// Job kinds of the channel-code domain.
const (
	JobSyncWay     = "sync_way"
	JobUploadMedia = "upload_media"
)

// Attachment types a welcome may carry.
const (
	AttachImage       = "image"
	AttachLink        = "link"
	AttachMiniProgram = "miniprogram"
)

// ChannelCodeSpec is what an admin sends to create or change a channel code.
// On PATCH, absent fields keep their value.
type ChannelCodeSpec struct {
	Name           *string          `json:"name"`
	Folder         *string          `json:"folder"`
	Description    *string          `json:"description"`
	Tags           *[]string        `json:"tags"`
	RemarkTemplate *string          `json:"remark_template"`
	SkipVerify     *bool            `json:"skip_verify"`
	Welcome        *WelcomeSpec     `json:"welcome"`
	Roster         *livecode.Roster `json:"roster"`
	Mode           *string          `json:"mode"`
	Strategy       *string          `json:"strategy"`
	// UTM is the campaign of the code's poster (utm_source, utm_medium,
	// utm_campaign, utm_term, utm_content); leads it brings in carry it.
	// Absent or null keeps it; {} clears it.
	UTM map[string]string `json:"utm"`
}

// WelcomeSpec is a code's welcome message. Text may use {name} for the
// customer's name. A variant whose weekdays and time window match the moment
// of the add replaces the default.
type WelcomeSpec struct {
	Text        string           `json:"text"`
	Attachments []AttachmentSpec `json:"attachments,omitempty"`
	Variants    []WelcomeVariant `json:"variants,omitempty"`
}

// WelcomeVariant is a time-of-day and weekday variant of a welcome.
type WelcomeVariant struct {
	Name        string           `json:"name,omitempty"`
	Weekdays    []int            `json:"weekdays,omitempty"` // 0=Sunday; empty = every day
	Start       string           `json:"start,omitempty"`    // "HH:MM" in the roster's zone; empty = all day
	End         string           `json:"end,omitempty"`
	Text        string           `json:"text"`
	Attachments []AttachmentSpec `json:"attachments,omitempty"`
}

// AttachmentSpec is one welcome attachment. Images are media assets uploaded
// ahead (POST /api/v1/media) so no upload happens inside the 20 s window.
type AttachmentSpec struct {
	Type         string `json:"type"`
	MediaAssetID uint64 `json:"media_asset_id,omitempty"` // image; miniprogram cover
	Title        string `json:"title,omitempty"`          // link, miniprogram
	URL          string `json:"url,omitempty"`            // link
	Description  string `json:"description,omitempty"`    // link
	PicURL       string `json:"pic_url,omitempty"`        // link
	AppID        string `json:"appid,omitempty"`          // miniprogram
	Page         string `json:"page,omitempty"`           // miniprogram
}

// MemberWay is a staff member's own single-user contact way (precise mode).
type MemberWay struct {
	ConfigID string `json:"config_id"`
	QRCode   string `json:"qr_code"`
}

// ChannelCode is a channel code as the API shows it.
type ChannelCode struct {
	ID             uint64               `json:"id"`
	CorpID         string               `json:"corp_id"`
	Name           string               `json:"name"`
	Folder         string               `json:"folder"`
	Description    string               `json:"description"`
	State          string               `json:"state"`
	Slug           string               `json:"slug"`
	ConfigID       string               `json:"config_id"`
	QRCode         string               `json:"qr_code"`
	LandingURL     string               `json:"landing_url,omitempty"`
	SkipVerify     bool                 `json:"skip_verify"`
	Tags           []livecode.TagRef    `json:"tags"`
	RemarkTemplate string               `json:"remark_template"`
	Welcome        WelcomeSpec          `json:"welcome"`
	Roster         livecode.Roster      `json:"roster"`
	Mode           string               `json:"mode"`
	Strategy       string               `json:"strategy,omitempty"`
	WeComUsers     []string             `json:"wecom_users"`
	MemberWays     map[string]MemberWay `json:"member_ways,omitempty"`
	Alert          string               `json:"alert,omitempty"`
	AlertMessage   *explain.Message     `json:"alert_message,omitempty"`
	UTM            map[string]string    `json:"utm"`
	SyncedAt       *wire.Timestamp      `json:"synced_at,omitempty"`
	CreatedBy      string               `json:"created_by,omitempty"`
	CreatedAt      wire.Timestamp       `json:"created_at"`
	UpdatedAt      wire.Timestamp       `json:"updated_at"`
}

// ChannelCodes manages channel live codes and keeps their WeCom contact ways
// in step with their rosters.
type ChannelCodes struct {
	store     Store
	clients   livecode.Clients
	jobs      queue.Wake
	cache     *CodeCache
	clock     clock.Clock
	log       *slog.Logger
	publicURL string
	picks     pickQueue
	// slugs remembers each precise-mode code's id by its slug: a code's
	// slug and mode never change, so a landing page reads no row to find
	// its code (a deleted one is refused under the code's lock).
	slugs sync.Map
}

// NewChannelCodes builds the service; jobs wakes the job runner after it
// queues work. publicURL prefixes landing URLs.
func NewChannelCodes(store Store, clients livecode.Clients, jobs queue.Wake, cache *CodeCache, clk clock.Clock, log *slog.Logger, publicURL string) *ChannelCodes {
	if log == nil {
		log = slog.Default()
	}
	c := &ChannelCodes{store: store, clients: clients, jobs: jobs, cache: cache, clock: clk, log: log.With("component", "channel_codes"),
		publicURL: strings.TrimRight(publicURL, "/")}
	return c
}

// stored is the decoded JSON columns of a code.
type stored struct {
	tags       []livecode.TagRef
	welcome    WelcomeSpec
	roster     livecode.Roster
	users      []string
	memberWays map[string]MemberWay
}

func decodeCode(c *model.ChannelCode) (stored, error) {
	var s stored
	for _, f := range []struct {
		src string
		dst any
	}{{c.Tags, &s.tags}, {c.Welcome, &s.welcome}, {c.Roster, &s.roster}, {c.WeComUsers, &s.users}, {c.MemberWays, &s.memberWays}} {
		if f.src == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return s, fmt.Errorf("channel code %d: corrupt column: %w", c.ID, err)
		}
	}
	if s.tags == nil {
		s.tags = []livecode.TagRef{}
	}
	if s.users == nil {
		s.users = []string{}
	}
	return s, nil
}

func (cc *ChannelCodes) view(c *model.ChannelCode) (*ChannelCode, error) {
	s, err := decodeCode(c)
	if err != nil {
		return nil, err
	}
	v := &ChannelCode{ID: c.ID, CorpID: c.CorpID, Name: c.Name, Folder: c.Folder, Description: c.Description,
		State: c.State, Slug: c.Slug, ConfigID: c.ConfigID, QRCode: c.QRCode, SkipVerify: c.SkipVerify, Tags: s.tags,
		RemarkTemplate: c.RemarkTemplate, Welcome: s.welcome, Roster: s.roster, Mode: c.Mode, Strategy: c.Strategy,
		WeComUsers: s.users, MemberWays: s.memberWays, Alert: c.Alert, AlertMessage: explain.Alert(c.Alert), UTM: livecode.UTMView(c.UTM), SyncedAt: wire.AtPtr(c.SyncedAt), CreatedBy: c.CreatedBy,
		CreatedAt: wire.At(c.CreatedAt), UpdatedAt: wire.At(c.UpdatedAt)}
	if c.Mode == ModePrecise {
		v.LandingURL = cc.publicURL + "/c/" + c.Slug
	}
	return v, nil
}

// Get returns one code.
func (cc *ChannelCodes) Get(ctx context.Context, corpID string, id uint64) (*ChannelCode, error) {
	c, err := cc.store.GetChannelCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	return cc.view(c)
}

// List returns codes of a corp.
func (cc *ChannelCodes) List(ctx context.Context, q ChannelCodeQuery) ([]*ChannelCode, error) {
	rows, err := cc.store.ListChannelCodes(ctx, q.filter())
	if err != nil {
		return nil, err
	}
	out := make([]*ChannelCode, 0, len(rows))
	for i := range rows {
		v, err := cc.view(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Create validates a spec, makes the WeCom contact way(s) and stores the code.
func (cc *ChannelCodes) Create(ctx context.Context, corpID, actor string, spec ChannelCodeSpec) (*ChannelCode, error) {
	client, err := cc.clients(corpID)
	if err != nil {
		return nil, err
	}
	c := &model.ChannelCode{CorpID: corpID, CreatedBy: actor, Mode: ModeRandom, SkipVerify: true, Tags: "[]", WeComUsers: "[]", MemberWays: "{}"}
	s := stored{tags: []livecode.TagRef{}, memberWays: map[string]MemberWay{}}
	if spec.Name == nil {
		return nil, &apierr.ValidationError{Field: "name", Reason: "is required"}
	}
	if spec.Roster == nil {
		return nil, &apierr.ValidationError{Field: "roster", Reason: "is required"}
	}
	if err := cc.apply(ctx, c, &s, spec); err != nil {
		return nil, err
	}
	slug, err := livecode.RandomSlug()
	if err != nil {
		return nil, err
	}
	c.Slug, c.State = slug, "c:"+slug
	if err := cc.ensureTags(ctx, client, corpID, &s); err != nil {
		return nil, err
	}

	now := cc.clock.Now()
	if c.Mode == ModeRandom {
		e := s.roster.Eligible(now, nil)
		users, alert := livecode.WayUsers(s.roster, e, nil)
		way, err := client.AddContactWay(ctx, wecom.NewContactWay{Type: wecom.ContactWayMulti, Scene: wecom.SceneQRCode,
			Remark: livecode.ClipRunes(c.Name, 30), SkipVerify: c.SkipVerify, State: c.State, User: users})
		if err != nil {
			return nil, livecode.AdminError(err)
		}
		c.ConfigID, c.QRCode, c.Alert = way.ConfigID, way.QRCode, alert
		s.users = users
		c.SyncedAt = &now
	} else {
		if err := cc.syncMemberWays(ctx, client, c, &s); err != nil {
			cc.dropWays(ctx, client, "", s.memberWays)
			return nil, err
		}
	}
	if err := encodeInto(c, &s); err != nil {
		return nil, err
	}
	if err := cc.store.CreateChannelCode(ctx, c); err != nil {
		// Do not leave an orphan contact way in WeCom (500k per corp).
		cc.dropWays(context.WithoutCancel(ctx), client, c.ConfigID, s.memberWays)
		return nil, err
	}
	cc.cache.Reload(ctx)
	cc.log.Info("channel code created", "id", c.ID, "corp", corpID, "mode", c.Mode, "actor", actor)
	return cc.view(c)
}

// Update applies a PATCH: changed tags are ensured in WeCom, a changed
// roster or mode rewrites the contact way(s).
func (cc *ChannelCodes) Update(ctx context.Context, corpID string, id uint64, spec ChannelCodeSpec) (*ChannelCode, error) {
	client, err := cc.clients(corpID)
	if err != nil {
		return nil, err
	}
	c, err := cc.store.GetChannelCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	s, err := decodeCode(c)
	if err != nil {
		return nil, err
	}
	oldName, oldSkip, oldMode := c.Name, c.SkipVerify, c.Mode
	if err := cc.apply(ctx, c, &s, spec); err != nil {
		return nil, err
	}
	if spec.Mode != nil && c.Mode != oldMode {
		return nil, &apierr.ValidationError{Field: "mode", Reason: "cannot change after creation (the poster differs); create a new code"}
	}
	if spec.Tags != nil {
		if err := cc.ensureTags(ctx, client, corpID, &s); err != nil {
			return nil, err
		}
	}
	if c.Mode == ModeRandom && (c.Name != oldName || c.SkipVerify != oldSkip) {
		if err := client.UpdateContactWay(ctx, wecom.ContactWayUpdate{ConfigID: c.ConfigID, Remark: livecode.ClipRunes(c.Name, 30), SkipVerify: &c.SkipVerify}); err != nil {
			return nil, livecode.AdminError(err)
		}
	}
	if c.Mode == ModePrecise && (spec.Roster != nil || c.SkipVerify != oldSkip) {
		if c.SkipVerify != oldSkip {
			// Member ways keep their config_id (posters point at the landing page); update them in place.
			for _, w := range s.memberWays {
				if err := client.UpdateContactWay(ctx, wecom.ContactWayUpdate{ConfigID: w.ConfigID, SkipVerify: &c.SkipVerify}); err != nil {
					return nil, livecode.AdminError(err)
				}
			}
		}
		if err := cc.syncMemberWays(ctx, client, c, &s); err != nil {
			return nil, err
		}
	}
	if err := encodeInto(c, &s); err != nil {
		return nil, err
	}
	if err := cc.store.SaveChannelCode(ctx, c); err != nil {
		return nil, err
	}
	if c.Mode == ModeRandom && spec.Roster != nil {
		if err := cc.RequestSync(ctx, c.CorpID, c.ID); err != nil {
			return nil, err
		}
	}
	cc.cache.Reload(ctx)
	return cc.view(c)
}

// Delete removes the WeCom contact way(s) and retires the code; its
// contacts and statistics stay.
func (cc *ChannelCodes) Delete(ctx context.Context, corpID string, id uint64) error {
	client, err := cc.clients(corpID)
	if err != nil {
		return err
	}
	c, err := cc.store.GetChannelCode(ctx, corpID, id)
	if err != nil {
		return err
	}
	s, err := decodeCode(c)
	if err != nil {
		return err
	}
	if c.ConfigID != "" {
		if err := client.DeleteContactWay(ctx, c.ConfigID); err != nil && !livecode.IsWayGone(err) {
			return livecode.AdminError(err)
		}
	}
	cc.dropWays(ctx, client, "", s.memberWays)
	if err := cc.store.DeleteChannelCode(ctx, id); err != nil {
		return err
	}
	cc.cache.Reload(ctx)
	cc.log.Info("channel code deleted", "id", id, "corp", corpID)
	return nil
}

// apply validates spec and copies it onto c and s.
func (cc *ChannelCodes) apply(ctx context.Context, c *model.ChannelCode, s *stored, spec ChannelCodeSpec) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &apierr.ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if spec.Name != nil {
		n := strings.TrimSpace(*spec.Name)
		if n == "" || utf8.RuneCountInString(n) > 64 {
			bad("name", "must be 1 to 64 characters")
		}
		c.Name = n
	}
	if spec.Folder != nil {
		if utf8.RuneCountInString(*spec.Folder) > 64 {
			bad("folder", "must be at most 64 characters")
		}
		c.Folder = strings.TrimSpace(*spec.Folder)
	}
	if spec.Description != nil {
		if utf8.RuneCountInString(*spec.Description) > 150 {
			bad("description", "must be at most 150 characters")
		}
		c.Description = *spec.Description
	}
	if spec.SkipVerify != nil {
		c.SkipVerify = *spec.SkipVerify
	}
	if spec.Mode != nil {
		if *spec.Mode != ModeRandom && *spec.Mode != ModePrecise {
			bad("mode", "must be random or precise")
		}
		c.Mode = *spec.Mode
	}
	if spec.Strategy != nil {
		if !livecode.ValidStrategy(*spec.Strategy) {
			bad("strategy", "must be round_robin, least_loaded or weighted")
		}
		c.Strategy = *spec.Strategy
	}
	if c.Mode == ModePrecise && c.Strategy == "" {
		c.Strategy = string(livecode.StrategyRoundRobin)
	}
	if spec.Tags != nil {
		seen := map[string]bool{}
		names := []string{}
		if len(*spec.Tags) > 20 {
			bad("tags", "at most 20 tags")
		}
		for i, t := range *spec.Tags {
			t = strings.TrimSpace(t)
			if t == "" || utf8.RuneCountInString(t) > 30 {
				bad(fmt.Sprintf("tags[%d]", i), "must be 1 to 30 characters (WeCom's limit)")
				continue
			}
			if !seen[t] {
				seen[t] = true
				names = append(names, t)
			}
		}
		refs := make([]livecode.TagRef, len(names))
		for i, n := range names {
			refs[i] = livecode.TagRef{Name: n}
		}
		s.tags = refs
	}
	if spec.RemarkTemplate != nil {
		t := *spec.RemarkTemplate
		// The fixed part alone must fit WeCom's 20; the customer's name is cut to fit.
		fixed := strings.NewReplacer("{name}", "", "{code}", c.Name, "{date}", "2006-01-02").Replace(t)
		if n := utf8.RuneCountInString(fixed); n > 20 {
			bad("remark_template", "is %d characters without the customer's name; WeCom allows 20", n)
		}
		for _, p := range placeholders(t) {
			if p != "{name}" && p != "{code}" && p != "{date}" {
				bad("remark_template", "unknown placeholder %s (use {name}, {code}, {date})", p)
			}
		}
		c.RemarkTemplate = t
	}
	if spec.Welcome != nil {
		cc.validateWelcome(ctx, c.CorpID, *spec.Welcome, bad)
		s.welcome = *spec.Welcome
	}
	if spec.Roster != nil {
		if err := spec.Roster.Validate(); err != nil {
			errs = append(errs, err)
		}
		s.roster = *spec.Roster
	}
	if spec.UTM != nil {
		if err := livecode.ValidateUTM(spec.UTM); err != nil {
			errs = append(errs, err)
		}
		c.UTM = livecode.EncodeUTM(spec.UTM)
	}
	return errors.Join(errs...)
}

func (cc *ChannelCodes) validateWelcome(ctx context.Context, corpID string, w WelcomeSpec, bad func(string, string, ...any)) {
	check := func(prefix, text string, atts []AttachmentSpec) {
		if text == "" && len(atts) == 0 {
			bad(prefix+"text", "a welcome needs text or an attachment")
		}
		// {name} may expand to 64 bytes; keep the total within WeCom's 4000.
		if n := len(text) + 64*strings.Count(text, "{name}"); n > 4000 {
			bad(prefix+"text", "is %d bytes with the name filled in; WeCom allows 4000", n)
		}
		if len(atts) > 9 {
			bad(prefix+"attachments", "at most 9 (WeCom's limit)")
		}
		for i, a := range atts {
			f := fmt.Sprintf("%sattachments[%d]", prefix, i)
			switch a.Type {
			case AttachImage:
				cc.checkAsset(ctx, corpID, a.MediaAssetID, f+".media_asset_id", bad)
			case AttachLink:
				if a.Title == "" || utf8.RuneCountInString(a.Title) > 128 {
					bad(f+".title", "must be 1 to 128 characters")
				}
				if u, err := url.Parse(a.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					bad(f+".url", "must be an http(s) URL")
				}
				if a.PicURL != "" {
					if u, err := url.Parse(a.PicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
						bad(f+".pic_url", "must be an http(s) URL")
					}
				}
			case AttachMiniProgram:
				if a.Title == "" || utf8.RuneCountInString(a.Title) > 64 {
					bad(f+".title", "must be 1 to 64 characters")
				}
				if a.AppID == "" {
					bad(f+".appid", "is required")
				}
				if a.Page == "" {
					bad(f+".page", "is required")
				}
				cc.checkAsset(ctx, corpID, a.MediaAssetID, f+".media_asset_id", bad)
			default:
				bad(f+".type", "must be image, link or miniprogram")
			}
		}
	}
	check("welcome.", w.Text, w.Attachments)
	if len(w.Variants) > 10 {
		bad("welcome.variants", "at most 10")
	}
	for i, v := range w.Variants {
		p := fmt.Sprintf("welcome.variants[%d].", i)
		for _, d := range v.Weekdays {
			if d < 0 || d > 6 {
				bad(p+"weekdays", "days are 0 (Sunday) to 6")
			}
		}
		if (v.Start == "") != (v.End == "") {
			bad(p+"start", "give both start and end, or neither")
		} else if v.Start != "" {
			if _, ok := livecode.ParseClock(v.Start, false); !ok {
				bad(p+"start", "must be HH:MM")
			}
			if _, ok := livecode.ParseClock(v.End, true); !ok {
				bad(p+"end", "must be HH:MM")
			}
		}
		check(p, v.Text, v.Attachments)
	}
}

func (cc *ChannelCodes) checkAsset(ctx context.Context, corpID string, id uint64, field string, bad func(string, string, ...any)) {
	if id == 0 {
		bad(field, "is required (upload the image with POST /api/v1/media first)")
		return
	}
	if _, err := cc.store.GetMediaAsset(ctx, corpID, id); err != nil {
		bad(field, "no such media asset")
	}
}

// ensureTags resolves tag names to WeCom tag ids, creating missing tags in
// the corp's catalogue.
func (cc *ChannelCodes) ensureTags(ctx context.Context, client *wecom.Client, corpID string, s *stored) error {
	if len(s.tags) == 0 {
		return nil
	}
	names := make([]string, len(s.tags))
	for i, t := range s.tags {
		names[i] = t.Name
	}
	known, err := cc.store.CorpTagsByName(ctx, corpID, names)
	if err != nil {
		return err
	}
	ids := map[string]string{}
	for _, t := range known {
		ids[t.Name] = t.TagID
	}
	if len(ids) < len(names) {
		// The catalogue may be stale (tags made in the WeCom console): refresh it once.
		groups, err := client.GetCorpTags(ctx, nil, nil)
		if err != nil {
			return livecode.AdminError(err)
		}
		if err := cc.store.UpsertCorpTags(ctx, livecode.Catalogue(corpID, groups)); err != nil {
			return err
		}
		for _, g := range groups {
			for _, t := range g.Tags {
				if _, ok := ids[t.Name]; !ok && slices.Contains(names, t.Name) {
					ids[t.Name] = t.ID
				}
			}
		}
	}
	var missing []wecom.NewCorpTag
	for _, n := range names {
		if _, ok := ids[n]; !ok {
			missing = append(missing, wecom.NewCorpTag{Name: n})
		}
	}
	if len(missing) > 0 {
		g, err := client.AddCorpTag(ctx, wecom.NewCorpTags{GroupName: "渠道活码", Tags: missing})
		if err != nil {
			return livecode.AdminError(err)
		}
		if err := cc.store.UpsertCorpTags(ctx, livecode.Catalogue(corpID, []wecom.TagGroup{*g})); err != nil {
			return err
		}
		for _, t := range g.Tags {
			ids[t.Name] = t.ID
		}
	}
	for i := range s.tags {
		s.tags[i].ID = ids[s.tags[i].Name]
		if s.tags[i].ID == "" {
			return fmt.Errorf("tag %q was not created in WeCom", s.tags[i].Name)
		}
	}
	return nil
}

// syncMemberWays gives every roster member (and backup) of a precise-mode
// code their own single-user contact way and removes the ways of people who
// left the roster.
func (cc *ChannelCodes) syncMemberWays(ctx context.Context, client *wecom.Client, c *model.ChannelCode, s *stored) error {
	if s.memberWays == nil {
		s.memberWays = map[string]MemberWay{}
	}
	want := map[string]bool{}
	for _, id := range append(s.roster.MemberIDs(), s.roster.Backups...) {
		want[id] = true
	}
	for uid := range want {
		if _, ok := s.memberWays[uid]; ok {
			continue
		}
		way, err := client.AddContactWay(ctx, wecom.NewContactWay{Type: wecom.ContactWaySingle, Scene: wecom.SceneQRCode,
			Remark: livecode.ClipRunes(c.Name, 30), SkipVerify: c.SkipVerify, State: c.State, User: []string{uid}})
		if err != nil {
			return livecode.AdminError(err)
		}
		s.memberWays[uid] = MemberWay{ConfigID: way.ConfigID, QRCode: way.QRCode}
	}
	for uid, w := range s.memberWays {
		if want[uid] {
			continue
		}
		if err := client.DeleteContactWay(ctx, w.ConfigID); err != nil && !livecode.IsWayGone(err) {
			return livecode.AdminError(err)
		}
		delete(s.memberWays, uid)
	}
	users := make([]string, 0, len(s.memberWays))
	for uid := range s.memberWays {
		users = append(users, uid)
	}
	sort.Strings(users)
	s.users = users
	return nil
}

func (cc *ChannelCodes) dropWays(ctx context.Context, client *wecom.Client, configID string, members map[string]MemberWay) {
	if configID != "" {
		if err := client.DeleteContactWay(ctx, configID); err != nil && !livecode.IsWayGone(err) {
			cc.log.Warn("could not delete contact way", "config_id", configID, "err", err)
		}
	}
	for _, w := range members {
		if err := client.DeleteContactWay(ctx, w.ConfigID); err != nil && !livecode.IsWayGone(err) {
			cc.log.Warn("could not delete contact way", "config_id", w.ConfigID, "err", err)
		}
	}
}

// RequestSync asks for the code's contact way to be brought in step with
// its roster (coalesced: many requests, one rewrite).
func (cc *ChannelCodes) RequestSync(ctx context.Context, corpID string, codeID uint64) error {
	// The deadline lane: a way that still lists a staff member at their cap
	// hands them more customers with every scan.
	return livecode.RequestSync(ctx, cc.store, cc.jobs, &model.Job{CorpID: corpID, Kind: JobSyncWay, Key: fmt.Sprintf("sync_way:%d", codeID),
		OrderKey: fmt.Sprintf("way:%d", codeID), Payload: queue.EncodePayload(syncPayload{CodeID: codeID}), Lane: model.LaneDeadline})
}

type syncPayload struct {
	CodeID uint64 `json:"code_id"`
}

// RunSyncWay rewrites a random-mode code's user list when it differs from
// the eligible set. The job's order key makes it the one writer per code.
func (cc *ChannelCodes) RunSyncWay(ctx context.Context, j *model.Job) error {
	var p syncPayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	c, err := cc.store.GetChannelCode(ctx, j.CorpID, p.CodeID)
	if err != nil {
		return queue.IgnoreIfGone(err, "code deleted")
	}
	if c.Mode != ModeRandom {
		return queue.Ignore("precise-mode codes keep one way per member")
	}
	s, err := decodeCode(c)
	if err != nil {
		return queue.Permanent(err)
	}
	now := cc.clock.Now()
	counts, err := cc.store.DayCounts(ctx, c.ID, s.roster.LocalDay(now))
	if err != nil {
		return err
	}
	users, alert := livecode.WayUsers(s.roster, s.roster.Eligible(now, counts), s.users)
	if !slices.Equal(users, s.users) {
		client, err := cc.clients(c.CorpID)
		if err != nil {
			return queue.Permanent(err)
		}
		if err := client.UpdateContactWay(ctx, wecom.ContactWayUpdate{ConfigID: c.ConfigID, User: users}); err != nil {
			// The code shows the failure until a sync succeeds; Tick sees
			// the alert differ from the roster's and asks again each minute.
			if aerr := cc.store.SetChannelCodeAlert(ctx, c.ID, livecode.SyncFailedAlert(err)); aerr != nil {
				return aerr
			}
			cc.cache.Reload(ctx)
			return livecode.JobError(err)
		}
		cc.log.Info("contact way rewritten", "code", c.ID, "users", users)
	}
	b, _ := json.Marshal(users)
	if err := cc.store.UpdateChannelCodeSync(ctx, c.ID, string(b), alert); err != nil {
		return err
	}
	if alert != c.Alert {
		cc.cache.Reload(ctx)
	}
	return nil
}

// Tick is run every minute (under a database lease, so by one replica): it
// requests a rewrite for every random-mode code whose eligible set no longer
// matches its contact way (a shift began or ended, midnight reset the caps),
// re-uploads media whose media_id is about to expire, and deletes the
// precise-mode landing holds that no longer count.
func (cc *ChannelCodes) Tick(ctx context.Context) error {
	codes, err := cc.store.ActiveChannelCodes(ctx)
	if err != nil {
		return err
	}
	now := cc.clock.Now()
	for i := range codes {
		c := &codes[i]
		if c.Mode != ModeRandom {
			continue
		}
		s, err := decodeCode(c)
		if err != nil {
			cc.log.Error("tick", "code", c.ID, "err", err)
			continue
		}
		counts, err := cc.store.DayCounts(ctx, c.ID, s.roster.LocalDay(now))
		if err != nil {
			return err
		}
		users, alert := livecode.WayUsers(s.roster, s.roster.Eligible(now, counts), s.users)
		if !slices.Equal(users, s.users) || alert != c.Alert {
			if err := cc.RequestSync(ctx, c.CorpID, c.ID); err != nil {
				return err
			}
		}
	}
	// Media ids last 3 days; renew a day ahead so a welcome never carries an expired one.
	assets, err := cc.store.MediaAssetsExpiringBefore(ctx, now.Add(24*time.Hour))
	if err != nil {
		return err
	}
	for _, a := range assets {
		if err := cc.store.RearmJob(ctx, &model.Job{CorpID: a.CorpID, Kind: JobUploadMedia, Key: fmt.Sprintf("upload_media:%d", a.ID),
			Payload: queue.EncodePayload(mediaPayload{AssetID: a.ID})}); err != nil {
			return err
		}
	}
	if len(assets) > 0 {
		cc.jobs.Notify()
	}
	// Landing picks that count for nobody any more (consumed by their add or
	// run out) go, so pick_holds keeps only the last few minutes' live picks.
	if n, err := cc.store.PrunePickHolds(ctx, now, 5000); err != nil {
		return err
	} else if n > 0 {
		cc.log.Debug("pruned landing-page holds", "rows", n)
	}
	return nil
}

type mediaPayload struct {
	AssetID uint64 `json:"asset_id"`
}

// RunUploadMedia runs an upload_media job: a welcome image uploaded to WeCom
// as media.
func (cc *ChannelCodes) RunUploadMedia(ctx context.Context, j *model.Job) error {
	var p mediaPayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	return cc.uploadAsset(ctx, j.CorpID, p.AssetID)
}

func (cc *ChannelCodes) uploadAsset(ctx context.Context, corpID string, id uint64) error {
	a, err := cc.store.GetMediaAsset(ctx, corpID, id)
	if err != nil {
		return queue.IgnoreIfGone(err, "asset deleted")
	}
	client, err := cc.clients(corpID)
	if err != nil {
		return queue.Permanent(err)
	}
	m, err := client.UploadMedia(ctx, wecom.MediaImage, a.Filename, a.Data)
	if err != nil {
		return livecode.JobError(err)
	}
	created := m.CreatedAt
	if created.IsZero() {
		created = cc.clock.Now()
	}
	if err := cc.store.SetMediaUploaded(ctx, a.ID, m.ID, created, created.Add(72*time.Hour)); err != nil {
		return err
	}
	cc.cache.Reload(ctx)
	return nil
}

// Image returns an uploaded welcome image of the corp (its bytes and
// content type), for a preview.
func (cc *ChannelCodes) Image(ctx context.Context, corpID string, id uint64) ([]byte, string, error) {
	a, err := cc.store.GetMediaAsset(ctx, corpID, id)
	if err != nil {
		return nil, "", err
	}
	return a.Data, a.ContentType, nil
}

// UploadImage stores an image for welcome messages and uploads it to WeCom
// right away, so a code can use it at once.
func (cc *ChannelCodes) UploadImage(ctx context.Context, corpID, filename, contentType string, data []byte) (*MediaView, error) {
	if len(data) == 0 {
		return nil, &apierr.ValidationError{Field: "file", Reason: "is empty"}
	}
	if len(data) > 2<<20 {
		return nil, &apierr.ValidationError{Field: "file", Reason: "images may be at most 2 MB (WeCom's limit)"}
	}
	if contentType != "image/png" && contentType != "image/jpeg" {
		return nil, &apierr.ValidationError{Field: "file", Reason: "must be a PNG or JPEG image"}
	}
	if filename == "" || utf8.RuneCountInString(filename) > 128 {
		filename = "image" + map[string]string{"image/png": ".png", "image/jpeg": ".jpg"}[contentType]
	}
	a, err := cc.store.CreateMediaAsset(ctx, &model.MediaAsset{CorpID: corpID, SHA256: sha256Hex(data), Filename: filename,
		ContentType: contentType, Data: data})
	if err != nil {
		return nil, err
	}
	if a.MediaID == "" || (a.ExpiresAt != nil && a.ExpiresAt.Before(cc.clock.Now().Add(24*time.Hour))) {
		if err := cc.uploadAsset(ctx, corpID, a.ID); err != nil {
			return nil, livecode.AdminError(err)
		}
		if a, err = cc.store.GetMediaAsset(ctx, corpID, a.ID); err != nil {
			return nil, err
		}
	}
	return viewMedia(a), nil
}

// Stats returns a code's daily adds and losses per staff member between two
// days (YYYY-MM-DD, inclusive); an empty bound means the last 30 days as
// counted in the roster's time zone.
//
// A staff principal is owed only their own figures: every total and day then
// counts their adds and losses alone, and the staff maps hold only them.
func (cc *ChannelCodes) Stats(ctx context.Context, p *auth.Principal, corpID string, id uint64, from, to string) (*CodeStats, error) {
	if p.IsStaff() && p.UserID == "" {
		return nil, lead.ErrNotLinked
	}
	c, err := cc.store.GetChannelCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	if to == "" || from == "" {
		s, err := decodeCode(c)
		if err != nil {
			return nil, err
		}
		today := s.roster.LocalDay(cc.clock.Now())
		if to == "" {
			to = today
		}
		if from == "" {
			t, _ := time.Parse("2006-01-02", to)
			from = t.AddDate(0, 0, -29).Format("2006-01-02")
		}
	}
	rows, err := cc.store.CodeStats(ctx, id, from, to)
	if err != nil {
		return nil, err
	}
	out := &CodeStats{CodeID: id, From: from, To: to, Days: []DayStat{}, Staff: map[string]*Totals{}}
	byDay := map[string]*DayStat{}
	for _, r := range rows {
		if p.IsStaff() && r.UserID != p.UserID {
			continue
		}
		d := byDay[r.Day]
		if d == nil {
			out.Days = append(out.Days, DayStat{Day: r.Day, Staff: map[string]*Totals{}})
			d = &out.Days[len(out.Days)-1]
			byDay[r.Day] = d
		}
		d.Adds += r.Adds
		d.Losses += r.Losses
		d.Net = d.Adds - d.Losses
		d.Staff[r.UserID] = &Totals{Adds: r.Adds, Losses: r.Losses, Net: r.Adds - r.Losses}
		t := out.Staff[r.UserID]
		if t == nil {
			t = &Totals{}
			out.Staff[r.UserID] = t
		}
		t.Adds += r.Adds
		t.Losses += r.Losses
		t.Net = t.Adds - t.Losses
		out.Total.Adds += r.Adds
		out.Total.Losses += r.Losses
	}
	out.Total.Net = out.Total.Adds - out.Total.Losses
	// byDay holds pointers into out.Days; re-point after appends moved it.
	for i := range out.Days {
		byDay[out.Days[i].Day] = &out.Days[i]
	}
	return out, nil
}

// CodeStats is a code's statistics over a range of days.
type CodeStats struct {
	CodeID uint64             `json:"code_id"`
	From   string             `json:"from"`
	To     string             `json:"to"`
	Total  Totals             `json:"total"`
	Staff  map[string]*Totals `json:"staff"`
	Days   []DayStat          `json:"days"`
}

// Totals are adds, losses and their difference.
type Totals struct {
	Adds   int `json:"adds"`
	Losses int `json:"losses"`
	Net    int `json:"net"`
}

// DayStat is one day of a code's statistics.
type DayStat struct {
	Day    string             `json:"day"`
	Adds   int                `json:"adds"`
	Losses int                `json:"losses"`
	Net    int                `json:"net"`
	Staff  map[string]*Totals `json:"staff"`
}

func encodeInto(c *model.ChannelCode, s *stored) error {
	for _, f := range []struct {
		dst *string
		v   any
	}{{&c.Tags, s.tags}, {&c.Welcome, s.welcome}, {&c.Roster, s.roster}, {&c.WeComUsers, s.users}, {&c.MemberWays, s.memberWays}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		*f.dst = string(b)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// placeholders lists the {...} tokens of a template.
func placeholders(t string) []string {
	var out []string
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, t[i:i+j+1])
		t = t[i+j+1:]
	}
}

// FillRemark fills a remark template and cuts the customer's name so the
// result fits WeCom's 20 characters.
func FillRemark(t, name, code, date string) string {
	fixed := strings.NewReplacer("{name}", "", "{code}", code, "{date}", date).Replace(t)
	room := 20 - utf8.RuneCountInString(fixed)
	if n := strings.Count(t, "{name}"); n > 0 && room > 0 {
		name = livecode.ClipRunes(name, room/n)
	} else {
		name = ""
	}
	return livecode.ClipRunes(strings.NewReplacer("{name}", name, "{code}", code, "{date}", date).Replace(t), 20)
}

// ChannelCodeQuery selects channel codes by folder and a name search.
type ChannelCodeQuery struct {
	CorpID  string
	Folder  string
	Q       string
	AfterID uint64
	Limit   int
}

func (q ChannelCodeQuery) filter() model.ChannelCodeFilter {
	return model.ChannelCodeFilter{CorpID: q.CorpID, Folder: q.Folder, Q: q.Q, AfterID: q.AfterID, Limit: q.Limit}
}

// MediaView is an uploaded welcome image (without its bytes).
type MediaView struct {
	ID          uint64          `json:"id"`
	CorpID      string          `json:"corp_id"`
	SHA256      string          `json:"sha256"`
	Filename    string          `json:"filename"`
	ContentType string          `json:"content_type"`
	MediaID     string          `json:"media_id,omitempty"`
	UploadedAt  *wire.Timestamp `json:"uploaded_at,omitempty"`
	ExpiresAt   *wire.Timestamp `json:"expires_at,omitempty"`
	CreatedAt   wire.Timestamp  `json:"created_at"`
}

func viewMedia(a *model.MediaAsset) *MediaView {
	return &MediaView{ID: a.ID, CorpID: a.CorpID, SHA256: a.SHA256, Filename: a.Filename, ContentType: a.ContentType,
		MediaID: a.MediaID, UploadedAt: wire.AtPtr(a.UploadedAt), ExpiresAt: wire.AtPtr(a.ExpiresAt), CreatedAt: wire.At(a.CreatedAt)}
}
