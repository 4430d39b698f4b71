package wecom

import (
	"context"
	"errors"
	"strings"

	"github.com/silenceper/wechat/v2/work/externalcontact"
)

// Group welcome template APIs (入群欢迎语素材): the message WeCom shows to a
// customer joining a group whose owner picked the template.
const (
	APIAddGroupWelcome    = "externalcontact/group_welcome_template/add"
	APIEditGroupWelcome   = "externalcontact/group_welcome_template/edit"
	APIGetGroupWelcome    = "externalcontact/group_welcome_template/get"
	APIDeleteGroupWelcome = "externalcontact/group_welcome_template/del"
)

// GroupWelcome is a group welcome template's message: a text of at most
// 4000 bytes and at most one attachment.
type GroupWelcome struct {
	Text        string
	Image       *AttachmentImage
	Link        *AttachmentLink
	MiniProgram *AttachmentMiniProgram
}

// groupWelcomeRequest is our own request for add and edit: silenceper's add
// cannot send notify 0 (omitempty), and its edit sends every attachment
// object, null when unset, and agentid 0.
type groupWelcomeRequest struct {
	TemplateID  string                 `json:"template_id,omitempty"`
	Text        *WelcomeText           `json:"text,omitempty"`
	Image       *AttachmentImage       `json:"image,omitempty"`
	Link        *AttachmentLink        `json:"link,omitempty"`
	MiniProgram *AttachmentMiniProgram `json:"miniprogram,omitempty"`
	Notify      *int                   `json:"notify,omitempty"`
}

func (w GroupWelcome) request(api, templateID string) (*groupWelcomeRequest, error) {
	if len(w.Text) > maxWelcomeText {
		return nil, invalidf(api, "text is %d bytes, at most %d", len(w.Text), maxWelcomeText)
	}
	n := 0
	for _, set := range []bool{w.Image != nil, w.Link != nil, w.MiniProgram != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, invalidf(api, "at most one attachment")
	}
	if w.Text == "" && n == 0 {
		return nil, invalidf(api, "text or an attachment is required")
	}
	r := &groupWelcomeRequest{TemplateID: templateID, Image: w.Image, Link: w.Link, MiniProgram: w.MiniProgram}
	if w.Text != "" {
		r.Text = &WelcomeText{Content: w.Text}
	}
	return r, nil
}

// AddGroupWelcome creates a group welcome template and returns its id.
// notify tells the group owners about the new template (WeCom's default).
func (c *Client) AddGroupWelcome(ctx context.Context, w GroupWelcome, notify bool) (string, error) {
	const api = APIAddGroupWelcome
	req, err := w.request(api, "")
	if err != nil {
		return "", err
	}
	n := 0
	if notify {
		n = 1
	}
	req.Notify = &n
	var out struct {
		TemplateID string `json:"template_id"`
	}
	if err := c.own(ctx, api, req, &out); err != nil {
		return "", err
	}
	if out.TemplateID == "" {
		return "", &TransportError{API: api, Msg: "answer without template_id"}
	}
	return out.TemplateID, nil
}

// EditGroupWelcome replaces a template's text and attachment.
func (c *Client) EditGroupWelcome(ctx context.Context, templateID string, w GroupWelcome) error {
	const api = APIEditGroupWelcome
	if templateID == "" {
		return invalidf(api, "template_id is required")
	}
	req, err := w.request(api, templateID)
	if err != nil {
		return err
	}
	return c.own(ctx, api, req, nil)
}

// GetGroupWelcome reads a template.
func (c *Client) GetGroupWelcome(ctx context.Context, templateID string) (*GroupWelcome, error) {
	const api = APIGetGroupWelcome
	if templateID == "" {
		return nil, invalidf(api, "template_id is required")
	}
	var res *externalcontact.GetGroupWelcomeTemplateResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetExternalContact().GetGroupWelcomeTemplate(&externalcontact.GetGroupWelcomeTemplateRequest{TemplateID: templateID})
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &GroupWelcome{Text: res.Text.Content}
	if im := res.Image; im.MediaID != "" || im.PicURL != "" {
		out.Image = &AttachmentImage{MediaID: im.MediaID, PicURL: im.PicURL}
	}
	if l := res.Link; l.URL != "" || l.Title != "" {
		out.Link = &AttachmentLink{Title: l.Title, PicURL: l.PicURL, Desc: l.Desc, URL: l.URL}
	}
	if m := res.MiniProgram; m.AppID != "" || m.Title != "" {
		out.MiniProgram = &AttachmentMiniProgram{Title: m.Title, PicMediaID: m.PicMediaID, AppID: m.AppID, Page: m.Page}
	}
	return out, nil
}

// DeleteGroupWelcome deletes a template.
func (c *Client) DeleteGroupWelcome(ctx context.Context, templateID string) error {
	const api = APIDeleteGroupWelcome
	if templateID == "" {
		return invalidf(api, "template_id is required")
	}
	return c.lib(ctx, api, func() error {
		return c.wk.GetExternalContact().DelGroupWelcomeTemplate(&externalcontact.DelGroupWelcomeTemplateRequest{TemplateID: templateID})
	})
}

// GroupWelcomeGone says WeCom no longer knows the template an edit, get or
// del named (invalid parameter, naming template_id).
func GroupWelcomeGone(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == CodeInvalidParameter && strings.Contains(ae.Msg, "template_id")
}
