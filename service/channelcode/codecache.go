package channelcode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/wecom"
)

// CodeView is the in-memory view of a channel code that the welcome path
// reads, so that no database or WeCom call stands between an add event and
// its welcome message.
type CodeView struct {
	ID             uint64
	CorpID         string
	Name           string
	Folder         string
	State          string
	Mode           string
	Tags           []livecode.TagRef
	RemarkTemplate string
	Roster         livecode.Roster
	// UTM is the code's UTM object as stored (JSON), for the lead's source.
	UTM     string
	welcome WelcomeSpec
	media   map[uint64]string // asset id → current media_id
}

// Welcome builds the welcome message for an add at `at`: the first variant
// whose weekdays and window match (in the roster's zone), else the default.
// name fills {name}. ok is false when the code has no welcome.
func (v *CodeView) Welcome(at time.Time, name string) (msg wecom.WelcomeMessage, ok bool) {
	text, atts := v.welcome.Text, v.welcome.Attachments
	local := at.In(v.Roster.Zone())
	for _, vr := range v.welcome.Variants {
		if livecode.InWindow(vr.Weekdays, vr.Start, vr.End, local) {
			text, atts = vr.Text, vr.Attachments
			break
		}
	}
	if text == "" && len(atts) == 0 {
		return msg, false
	}
	if text != "" {
		msg.Text = &wecom.WelcomeText{Content: strings.ReplaceAll(text, "{name}", name)}
	}
	for _, a := range atts {
		switch a.Type {
		case AttachImage:
			if id := v.media[a.MediaAssetID]; id != "" {
				msg.Attachments = append(msg.Attachments, wecom.Attachment{Image: &wecom.AttachmentImage{MediaID: id}})
			}
		case AttachLink:
			msg.Attachments = append(msg.Attachments, wecom.Attachment{Link: &wecom.AttachmentLink{Title: a.Title, URL: a.URL, Desc: a.Description, PicURL: a.PicURL}})
		case AttachMiniProgram:
			if id := v.media[a.MediaAssetID]; id != "" {
				msg.Attachments = append(msg.Attachments, wecom.Attachment{MiniProgram: &wecom.AttachmentMiniProgram{Title: a.Title, PicMediaID: id, AppID: a.AppID, Page: a.Page}})
			}
		}
	}
	return msg, msg.Text != nil || len(msg.Attachments) > 0
}

// NeedsName reports whether any welcome text of the code uses {name}.
func (v *CodeView) NeedsName() bool {
	if strings.Contains(v.welcome.Text, "{name}") {
		return true
	}
	for _, vr := range v.welcome.Variants {
		if strings.Contains(vr.Text, "{name}") {
			return true
		}
	}
	return false
}

// CodeCache holds every live channel code by (corp, state). Each replica
// reloads it after its own changes, and polls the database's cheap version
// of the codes every second (ChannelCodesVersion) for the others', reloading
// only when it moved. A State the cache does not know is looked up in the
// database before an add is taken for a foreign one, so a code made on
// another replica a moment ago is known at once.
type CodeCache struct {
	store Store
	log   *slog.Logger

	mu      sync.RWMutex
	byState map[string]*CodeView
	loaded  bool
	version string
}

// NewCodeCache builds an empty cache; call Reload before use.
func NewCodeCache(store Store, log *slog.Logger) *CodeCache {
	if log == nil {
		log = slog.Default()
	}
	return &CodeCache{store: store, log: log.With("component", "code_cache"), byState: map[string]*CodeView{}}
}

// ByState returns the code a callback's State names, or nil. A State the
// cache does not hold is read from the database (a code another replica
// made since the last reload); nil means no live code has it.
func (c *CodeCache) ByState(ctx context.Context, corpID, state string) *CodeView {
	c.mu.RLock()
	v := c.byState[corpID+"\x00"+state]
	c.mu.RUnlock()
	if v != nil {
		return v
	}
	m, err := c.store.LiveChannelCodeByState(ctx, corpID, state)
	if err != nil {
		if !errors.Is(err, model.ErrNotFound) {
			c.log.Error("look up channel code", "state", state, "err", err)
		}
		return nil
	}
	views, err := c.build(ctx, []model.ChannelCode{*m})
	if err != nil || len(views) == 0 {
		if err != nil {
			c.log.Error("load channel code", "id", m.ID, "err", err)
		}
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range views {
		if cur, ok := c.byState[k]; ok {
			return cur // a reload got there first
		}
		c.byState[k] = v
		return v
	}
	return nil
}

// Snapshot returns every cached code.
func (c *CodeCache) Snapshot() []*CodeView {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*CodeView, 0, len(c.byState))
	for _, v := range c.byState {
		out = append(out, v)
	}
	return out
}

// CodeByID returns the live code with id as leads name it (lead.Codes).
func (c *CodeCache) CodeByID(id uint64) (lead.Code, bool) {
	var found *CodeView
	for _, v := range c.Snapshot() {
		if v.ID == id {
			found = v
		}
	}
	if found == nil {
		return lead.Code{}, false
	}
	return lead.Code{ID: found.ID, Name: found.Name, Tags: found.Tags, UTM: found.UTM}, true
}

// Reload rebuilds the cache from the database. A failure keeps the old view.
func (c *CodeCache) Reload(ctx context.Context) {
	if err := c.reload(ctx); err != nil {
		c.log.Error("reload channel codes", "err", err)
	}
}

func (c *CodeCache) reload(ctx context.Context) error {
	// The version is read first: a change that lands during the reload
	// moves it again, and the next poll reloads once more.
	version, err := c.store.ChannelCodesVersion(ctx)
	if err != nil {
		return err
	}
	codes, err := c.store.ActiveChannelCodes(ctx)
	if err != nil {
		return err
	}
	views, err := c.build(ctx, codes)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.byState = views
	c.loaded = true
	c.version = version
	c.mu.Unlock()
	return nil
}

// build makes the views of codes, keyed by corp and state, with their
// images' current media_ids.
func (c *CodeCache) build(ctx context.Context, codes []model.ChannelCode) (map[string]*CodeView, error) {
	views := make(map[string]*CodeView, len(codes))
	var assetIDs []uint64
	for i := range codes {
		m := &codes[i]
		s, err := decodeCode(m)
		if err != nil {
			c.log.Error("skip corrupt channel code", "id", m.ID, "err", err)
			continue
		}
		v := &CodeView{ID: m.ID, CorpID: m.CorpID, Name: m.Name, Folder: m.Folder, State: m.State, Mode: m.Mode, Tags: s.tags,
			RemarkTemplate: m.RemarkTemplate, Roster: s.roster, UTM: m.UTM, welcome: s.welcome, media: map[uint64]string{}}
		views[m.CorpID+"\x00"+m.State] = v
		for _, a := range allAttachments(s.welcome) {
			if a.MediaAssetID > 0 {
				assetIDs = append(assetIDs, a.MediaAssetID)
			}
		}
	}
	assets, err := c.store.MediaAssetsByID(ctx, assetIDs)
	if err != nil {
		return nil, err
	}
	media := map[uint64]string{}
	for _, a := range assets {
		media[a.ID] = a.MediaID
	}
	for _, v := range views {
		for _, a := range allAttachments(v.welcome) {
			if id, ok := media[a.MediaAssetID]; ok {
				v.media[a.MediaAssetID] = id
			}
		}
	}
	return views, nil
}

// Run polls the codes' version every poll interval and reloads when it
// moved, until ctx ends.
func (c *CodeCache) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			v, err := c.store.ChannelCodesVersion(ctx)
			if err != nil {
				if ctx.Err() == nil {
					c.log.Error("poll channel codes", "err", err)
				}
				continue
			}
			c.mu.RLock()
			same := v == c.version
			c.mu.RUnlock()
			if !same {
				c.Reload(ctx)
			}
		}
	}
}

func allAttachments(w WelcomeSpec) []AttachmentSpec {
	out := append([]AttachmentSpec(nil), w.Attachments...)
	for _, v := range w.Variants {
		out = append(out, v.Attachments...)
	}
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
