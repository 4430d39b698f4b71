package wecom

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/work/externalcontact"
	"github.com/silenceper/wechat/v2/work/material"
)

// Attachment message types of a welcome message.
const (
	AttachImage       = "image"
	AttachLink        = "link"
	AttachMiniProgram = "miniprogram"
	AttachVideo       = "video"
	AttachFile        = "file"
)

const (
	maxWelcomeText        = 4000 // bytes
	maxWelcomeAttachments = 9
)

// WelcomeMessage is the request of send_welcome_msg. Only what is set is
// sent: silenceper's request type serializes every attachment sub-object,
// empty ones included, and WeCom rejects those with 40063.
type WelcomeMessage struct {
	WelcomeCode string       `json:"welcome_code"`
	Text        *WelcomeText `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// WelcomeText is the text part, at most 4000 bytes.
type WelcomeText struct {
	Content string `json:"content"`
}

// Attachment is one welcome attachment: exactly one of its pointers is set.
// MsgType may be left empty; it is filled in from the pointer.
type Attachment struct {
	MsgType     string                 `json:"msgtype"`
	Image       *AttachmentImage       `json:"image,omitempty"`
	Link        *AttachmentLink        `json:"link,omitempty"`
	MiniProgram *AttachmentMiniProgram `json:"miniprogram,omitempty"`
	Video       *AttachmentVideo       `json:"video,omitempty"`
	File        *AttachmentFile        `json:"file,omitempty"`
}

// AttachmentImage takes an uploaded media_id or a picture URL.
type AttachmentImage struct {
	MediaID string `json:"media_id,omitempty"`
	PicURL  string `json:"pic_url,omitempty"`
}

// AttachmentLink is a link card.
type AttachmentLink struct {
	Title  string `json:"title"`
	PicURL string `json:"picurl,omitempty"`
	Desc   string `json:"desc,omitempty"`
	URL    string `json:"url"`
}

// AttachmentMiniProgram is a mini-program card; its cover is an uploaded image.
type AttachmentMiniProgram struct {
	Title      string `json:"title"`
	PicMediaID string `json:"pic_media_id"`
	AppID      string `json:"appid"`
	Page       string `json:"page"`
}

// AttachmentVideo is an uploaded video.
type AttachmentVideo struct {
	MediaID string `json:"media_id"`
}

// AttachmentFile is an uploaded file.
type AttachmentFile struct {
	MediaID string `json:"media_id"`
}

// kind is the one sub-object set, or "" when none or several are.
func (a Attachment) kind() string {
	kind, n := "", 0
	for _, k := range []struct {
		name string
		set  bool
	}{
		{AttachImage, a.Image != nil},
		{AttachLink, a.Link != nil},
		{AttachMiniProgram, a.MiniProgram != nil},
		{AttachVideo, a.Video != nil},
		{AttachFile, a.File != nil},
	} {
		if k.set {
			kind, n = k.name, n+1
		}
	}
	if n != 1 {
		return ""
	}
	return kind
}

func (a Attachment) complete() bool {
	switch {
	case a.Image != nil:
		return a.Image.MediaID != "" || a.Image.PicURL != ""
	case a.Link != nil:
		return a.Link.Title != "" && a.Link.URL != ""
	case a.MiniProgram != nil:
		return a.MiniProgram.Title != "" && a.MiniProgram.PicMediaID != "" && a.MiniProgram.AppID != "" && a.MiniProgram.Page != ""
	case a.Video != nil:
		return a.Video.MediaID != ""
	case a.File != nil:
		return a.File.MediaID != ""
	}
	return false
}

// prepared checks m and returns the request to send, with empty text dropped
// and msgtype filled in.
func (m WelcomeMessage) prepared() (WelcomeMessage, error) {
	const api = APISendWelcomeMsg
	if m.WelcomeCode == "" {
		return m, invalidf(api, "welcome_code is required")
	}
	out := WelcomeMessage{WelcomeCode: m.WelcomeCode}
	if m.Text != nil && m.Text.Content != "" {
		if len(m.Text.Content) > maxWelcomeText {
			return m, invalidf(api, "text is %d bytes, at most %d", len(m.Text.Content), maxWelcomeText)
		}
		out.Text = &WelcomeText{Content: m.Text.Content}
	}
	if len(m.Attachments) > maxWelcomeAttachments {
		return m, invalidf(api, "%d attachments, at most %d", len(m.Attachments), maxWelcomeAttachments)
	}
	for i, a := range m.Attachments {
		kind := a.kind()
		if kind == "" {
			return m, invalidf(api, "attachment %d must set exactly one of image, link, miniprogram, video, file", i)
		}
		if a.MsgType != "" && a.MsgType != kind {
			return m, invalidf(api, "attachment %d has msgtype %q but carries %s", i, a.MsgType, kind)
		}
		if !a.complete() {
			return m, invalidf(api, "attachment %d (%s) misses a required field", i, kind)
		}
		a.MsgType = kind
		out.Attachments = append(out.Attachments, a)
	}
	if out.Text == nil && len(out.Attachments) == 0 {
		return m, invalidf(api, "the message has neither text nor attachments")
	}
	return out, nil
}

// SendWelcome sends the welcome message for a welcome_code. WeCom accepts it
// once, within 20 s of the add event; the caller's ctx should carry that
// deadline. Sent as our own request (see WelcomeMessage).
func (c *Client) SendWelcome(ctx context.Context, m WelcomeMessage) error {
	req, err := m.prepared()
	if err != nil {
		return err
	}
	return c.own(ctx, APISendWelcomeMsg, req, nil)
}

// Media types of media/upload, with their size limits.
const (
	MediaImage = "image"
	MediaVoice = "voice"
	MediaVideo = "video"
	MediaFile  = "file"
)

var mediaMaxBytes = map[string]int{
	MediaImage: 10 << 20,
	MediaVoice: 2 << 20,
	MediaVideo: 10 << 20,
	MediaFile:  20 << 20,
}

// Media is an uploaded temporary media file; WeCom keeps it for three days.
type Media struct {
	ID        string
	Type      string
	CreatedAt time.Time
}

// UploadMedia uploads a temporary media file (for welcome attachments, ahead
// of time: never inside the welcome's 20 s window).
func (c *Client) UploadMedia(ctx context.Context, mediaType, filename string, data []byte) (Media, error) {
	const api = APIUploadMedia
	limit, ok := mediaMaxBytes[mediaType]
	if !ok {
		return Media{}, invalidf(api, "media type %q is not one of image, voice, video, file", mediaType)
	}
	if filename == "" {
		return Media{}, invalidf(api, "filename is required")
	}
	if len(data) <= 5 || len(data) > limit {
		return Media{}, invalidf(api, "%s of %d bytes is outside 6..%d bytes", mediaType, len(data), limit)
	}
	var res *material.UploadTempFileResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetMaterial().UploadTempFileFromReader(filename, mediaType, bytes.NewReader(data))
		return err
	})
	if err != nil {
		return Media{}, err
	}
	m := Media{ID: res.MediaID, Type: res.Type}
	if sec, err := strconv.ParseInt(res.CreateAt, 10, 64); err == nil {
		m.CreatedAt = unixTime(sec)
	}
	return m, nil
}

// AcquisitionLinkRequest creates a customer-acquisition link.
type AcquisitionLinkRequest struct {
	Name          string
	UserIDs       []string // at most 100
	DepartmentIDs []int64
	SkipVerify    bool
}

// AcquisitionLink is a created link. Appending customer_channel=<state> (≤64
// bytes) to URL makes the add event carry that State.
type AcquisitionLink struct {
	ID        string
	Name      string
	URL       string
	CreatedAt time.Time
}

// CreateAcquisitionLink creates a customer-acquisition link.
func (c *Client) CreateAcquisitionLink(ctx context.Context, r AcquisitionLinkRequest) (AcquisitionLink, error) {
	const api = APICreateAcquisitionLink
	if r.Name == "" {
		return AcquisitionLink{}, invalidf(api, "link_name is required")
	}
	if len(r.UserIDs) == 0 && len(r.DepartmentIDs) == 0 {
		return AcquisitionLink{}, invalidf(api, "range needs users or departments")
	}
	if len(r.UserIDs) > 100 {
		return AcquisitionLink{}, invalidf(api, "%d users, at most 100", len(r.UserIDs))
	}
	var res *externalcontact.CreateCustomerAcquisitionLinkResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetExternalContact().CreateCustomerAcquisitionLink(&externalcontact.CreateCustomerAcquisitionLinkRequest{
			LinkName:   r.Name,
			Range:      externalcontact.CustomerAcquisitionRange{UserList: r.UserIDs, DepartmentList: r.DepartmentIDs},
			SkipVerify: r.SkipVerify,
		})
		return err
	})
	if err != nil {
		return AcquisitionLink{}, err
	}
	l := res.Link
	return AcquisitionLink{ID: l.LinkID, Name: l.LinkName, URL: l.URL, CreatedAt: unixTime(l.CreateTime)}, nil
}
