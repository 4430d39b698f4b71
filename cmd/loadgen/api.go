package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// adminAPI is the slice of the gateway's admin API loadgen needs.
type adminAPI struct {
	base  string
	token string
	corp  string // ?corp=, only needed when the gateway serves several corps
	hc    *http.Client
}

// rosterMember mirrors livecode.RosterMember's JSON; loadgen speaks to the
// gateway over HTTP only, like any other client of the admin API.
type rosterMember struct {
	UserID   string `json:"userid"`
	DailyCap int    `json:"daily_cap,omitempty"`
}

type channelCodeSpec struct {
	Name    string   `json:"name"`
	Tags    []string `json:"tags,omitempty"`
	Welcome struct {
		Text string `json:"text"`
	} `json:"welcome"`
	Roster struct {
		Members []rosterMember `json:"members"`
		Backups []string       `json:"backups"`
	} `json:"roster"`
	Mode     string `json:"mode"`
	Strategy string `json:"strategy,omitempty"`
}

type channelCode struct {
	ID         uint64 `json:"id"`
	Name       string `json:"name"`
	Mode       string `json:"mode"`
	ConfigID   string `json:"config_id"`
	QRCode     string `json:"qr_code"`
	Slug       string `json:"slug"`
	LandingURL string `json:"landing_url"`
	Roster     struct {
		Members []rosterMember `json:"members"`
	} `json:"roster"`
}

// apiError is a non-2xx answer in the gateway's one error shape.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("gateway answered %d %s: %s", e.Status, e.Code, e.Message)
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	return s
}

func (a *adminAPI) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	if query == nil {
		query = url.Values{}
	}
	if a.corp != "" {
		query.Set("corp", a.corp)
	}
	u := a.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Field   string `json:"field"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return &apiError{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(b))}
		}
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Field: e.Error.Field}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func (a *adminAPI) createCode(ctx context.Context, spec channelCodeSpec) (*channelCode, error) {
	var c channelCode
	if err := a.do(ctx, http.MethodPost, "/api/v1/channel-codes", nil, spec, &c); err != nil {
		return nil, fmt.Errorf("create channel code: %w", err)
	}
	return &c, nil
}

func (a *adminAPI) code(ctx context.Context, id uint64) (*channelCode, error) {
	var c channelCode
	if err := a.do(ctx, http.MethodGet, "/api/v1/channel-codes/"+strconv.FormatUint(id, 10), nil, nil, &c); err != nil {
		return nil, fmt.Errorf("channel code %d: %w", id, err)
	}
	return &c, nil
}

// codesNamed lists the codes whose name is exactly name, newest last.
func (a *adminAPI) codesNamed(ctx context.Context, name string) ([]channelCode, error) {
	var out []channelCode
	q := url.Values{"q": {name}, "limit": {"500"}}
	for {
		var page struct {
			Codes     []channelCode `json:"channel_codes"`
			NextAfter uint64        `json:"next_after"`
		}
		if err := a.do(ctx, http.MethodGet, "/api/v1/channel-codes", q, nil, &page); err != nil {
			return nil, fmt.Errorf("list channel codes: %w", err)
		}
		for _, c := range page.Codes {
			if c.Name == name {
				out = append(out, c)
			}
		}
		if page.NextAfter == 0 {
			return out, nil
		}
		q.Set("after", strconv.FormatUint(page.NextAfter, 10))
	}
}

// The landing page shows the member's QR code as an <img> and names them
// under it; loadgen reads both the way a phone's browser would see them.
var (
	landingQR    = regexp.MustCompile(`<img src="([^"]+)"`)
	landingStaff = regexp.MustCompile(`顾问：([^<]+)</div>`)
)

// landing opens a precise-mode landing page as a new visitor (no cookie)
// and returns the QR code URL and the staff member it shows.
func landing(ctx context.Context, hc *http.Client, gateway, slug string) (qr, staff string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gateway+"/c/"+url.PathEscape(slug), nil)
	if err != nil {
		return "", "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("landing page answered %d", resp.StatusCode)
	}
	m := landingQR.FindSubmatch(b)
	if m == nil {
		return "", "", fmt.Errorf("landing page shows no QR code")
	}
	qr = html.UnescapeString(string(m[1]))
	if s := landingStaff.FindSubmatch(b); s != nil {
		staff = strings.TrimSpace(html.UnescapeString(string(s[1])))
	}
	return qr, staff, nil
}
