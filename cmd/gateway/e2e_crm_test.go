package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// TestCRMReadsLeadsBackWithItsOwnToken: an admin issues a crm token over the
// API; the CRM receives a full lead.created and a lead.updated for a PATCH of
// the company, reads the lead back, catches up through the change feed, and
// is refused at once when the token is revoked.
func TestCRMReadsLeadsBackWithItsOwnToken(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		var tok auth.Token
		if st := e.api("POST", "/api/v1/tokens", map[string]any{"role": "crm", "name": "CRM sync"}, &tok); st != 201 ||
			tok.Secret == "" || tok.Role != auth.RoleCRM || tok.Prefix == "" {
			t.Fatalf("issue: %d %+v", st, tok)
		}
		var bad struct {
			Error errorDetail `json:"error"`
		}
		if st := e.api("POST", "/api/v1/tokens", map[string]any{"role": "staff", "name": "sales"}, &bad); st != 400 || bad.Error.Field != "userid" {
			t.Fatalf("staff token without userid: %d %+v", st, bad)
		}
		crm := e.crmEndpoint("/crm", webhook.EventLeadCreated, webhook.EventLeadUpdated)
		since := time.Now().UTC().Add(-time.Second)

		code := e.createCode(map[string]any{"name": "秋季展会", "roster": roster(member("zhangsan"))})
		res := e.scan(code, "韩梅梅")
		e.idle()
		created := crm.await(t, webhook.EventLeadCreated, 1)[0]["data"].(map[string]any)
		if created["name"] != "韩梅梅" || created["external_userid"] != res.ExternalUserID || created["owner"] != "zhangsan" ||
			created["score"].(float64) <= 0 || len(created["score_breakdown"].([]any)) == 0 {
			t.Fatalf("lead.created data = %v", created)
		}
		id := uint64(created["id"].(float64))
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/leads/%d", id), map[string]any{"corp_name": "ACME"}, nil); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		updated := crm.await(t, webhook.EventLeadUpdated, 1)[0]["data"].(map[string]any)
		change := updated["changes"].([]any)[0].(map[string]any)
		if updated["corp_name"] != "ACME" || change["field"] != "corp_name" || change["previous"] != "" {
			t.Fatalf("lead.updated data = %v", updated)
		}

		// The CRM reads the lead, and the change feed, with its own token.
		var one webhook.Lead
		if st := e.api("GET", fmt.Sprintf("/api/v1/leads/%d", id), nil, &one, tok.Secret); st != 200 || one.CorpName != "ACME" {
			t.Fatalf("crm reads the lead: %d %+v", st, one)
		}
		if st := e.api("GET", "/api/v1/leads", nil, &bad, tok.Secret); st != 403 {
			t.Fatalf("crm lists leads outside the feed: %d", st)
		}
		var feed lead.LeadFeed
		path := "/api/v1/leads?updated_after=" + url.QueryEscape(since.Format(time.RFC3339Nano))
		deadline := time.Now().Add(20 * time.Second)
		for {
			if st := e.api("GET", path, nil, &feed, tok.Secret); st != 200 {
				t.Fatalf("feed: %d", st)
			}
			// The feed holds back the last moments (lead.FeedSettle).
			if len(feed.Leads) == 1 && feed.Leads[0].CorpName == "ACME" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("feed = %+v", feed)
			}
			time.Sleep(100 * time.Millisecond)
		}
		var rest lead.LeadFeed
		if st := e.api("GET", "/api/v1/leads?cursor="+feed.NextCursor, nil, &rest, tok.Secret); st != 200 || len(rest.Leads) != 0 || rest.NextCursor != feed.NextCursor {
			t.Fatalf("feed after the cursor: %d %+v", st, rest)
		}
		if st := e.api("GET", "/api/v1/leads?updated_after=yesterday", nil, &bad, tok.Secret); st != 400 || bad.Error.Field != "updated_after" {
			t.Fatalf("bad updated_after: %d %+v", st, bad)
		}

		// The admin sees when it was used, never its secret; revoking it
		// refuses its next request.
		var list struct {
			Tokens []auth.Token `json:"tokens"`
		}
		if st := e.api("GET", "/api/v1/tokens", nil, &list); st != 200 {
			t.Fatal(st)
		}
		found := false
		for _, x := range list.Tokens {
			if x.ID == tok.ID {
				found = x.LastUsedAt != nil && x.Secret == "" && x.Name == "CRM sync"
			}
		}
		if !found {
			t.Fatalf("tokens = %+v", list.Tokens)
		}
		if st := e.api("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), nil, nil); st != 204 {
			t.Fatalf("revoke: %d", st)
		}
		if st := e.api("GET", fmt.Sprintf("/api/v1/leads/%d", id), nil, nil, tok.Secret); st != 401 {
			t.Fatalf("revoked token: %d", st)
		}
	})
}

// TestCRMHearsOfMergedLeads: one person (one unionid) comes back under a
// reissued external_userid; the gateway folds the new lead into the first,
// the CRM receives lead.merged naming both (validated against the document),
// and an answer on the absorbed lead's id goes to the kept lead.
func TestCRMHearsOfMergedLeads(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		var tok auth.Token
		if st := e.api("POST", "/api/v1/tokens", map[string]any{"role": "crm", "name": "CRM sync"}, &tok); st != 201 {
			t.Fatalf("token: %d", st)
		}
		crm := e.crmEndpoint("/crm", webhook.EventLeadCreated, webhook.EventLeadMerged)
		code := e.createCode(map[string]any{"name": "秋季展会", "roster": roster(member("zhangsan"))})
		first, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "李雷", UnionID: "o-merge-1"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		created := crm.await(t, webhook.EventLeadCreated, 1)[0]["data"].(map[string]any)
		if created["unionid"] != "o-merge-1" || created["external_userid"] != first.ExternalUserID {
			t.Fatalf("lead.created data = %v", created)
		}
		kept := uint64(created["id"].(float64))

		second, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID,
			Customer: wecomsim.Customer{Name: "李雷", UnionID: "o-merge-1", Reissued: true}})
		if err != nil || second.ExternalUserID == first.ExternalUserID {
			t.Fatalf("reissued scan: %+v %v", second, err)
		}
		e.idle()
		data := crm.await(t, webhook.EventLeadMerged, 1)[0]["data"].(map[string]any)
		merged, _ := data["merged"].(map[string]any)
		if data["id"] != float64(kept) || merged == nil || merged["external_userid"] != second.ExternalUserID || merged["id"] == float64(kept) {
			t.Fatalf("lead.merged data = %v", data)
		}
		absorbed := uint64(merged["id"].(float64))

		// The CRM reads the absorbed lead (it names the kept one) and
		// answers on its id: the kept lead takes the answer.
		var one webhook.Lead
		if st := e.api("GET", fmt.Sprintf("/api/v1/leads/%d", absorbed), nil, &one, tok.Secret); st != 200 || one.MergedInto != kept {
			t.Fatalf("absorbed lead: %d %+v", st, one)
		}
		if st := e.api("POST", fmt.Sprintf("/api/v1/leads/%d/stage", kept), map[string]any{"stage": "sql", "reason": "qualified by phone"}, nil); st != 200 {
			t.Fatalf("stage: %d", st)
		}
		var res lead.CRMResult
		if st := e.api("POST", fmt.Sprintf("/api/v1/crm/leads/%d/status", absorbed), map[string]any{"event_id": "crm-merge-1", "status": "accepted"}, &res, tok.Secret); st != 200 ||
			res.LeadID != kept || res.MergedInto != kept || res.Stage != lead.StageAccepted {
			t.Fatalf("answer on the absorbed lead: %d %+v", st, res)
		}
		if st := e.api("GET", fmt.Sprintf("/api/v1/leads/%d", kept), nil, &one, tok.Secret); st != 200 || one.Stage != lead.StageAccepted {
			t.Fatalf("kept lead after the answer: %d %+v", st, one)
		}
	})
}

// TestLeadCreatedGoesOutWhenTheProfileFetchGivesUp: WeCom refuses the
// customer's profile for good; the lead still reaches the CRM, once, with
// what is known (the customer's id, the owner, the code). When the profile
// can be read later (a staff member's edit of the contact fetches it again),
// the name arrives as a lead.updated naming the field.
func TestLeadCreatedGoesOutWhenTheProfileFetchGivesUp(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		crm := e.crmEndpoint("/crm", webhook.EventLeadCreated, webhook.EventLeadUpdated)
		code := e.createCode(map[string]any{"name": "秋季展会", "roster": roster(member("zhangsan"))})
		if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "externalcontact/get", ErrCode: wecom.CodeNoRelationship, Count: 1000}); err != nil {
			t.Fatal(err)
		}
		res := e.scan(code, "韩梅梅")
		e.idle()
		data := crm.await(t, webhook.EventLeadCreated, 1)[0]["data"].(map[string]any)
		source, _ := data["source"].(map[string]any)
		if data["external_userid"] != res.ExternalUserID || data["owner"] != "zhangsan" || data["name"] != "" ||
			source == nil || source["code_id"] != float64(code.ID) {
			t.Fatalf("lead.created data = %v", data)
		}

		if err := e.ctl.ClearFaults(ctx); err != nil {
			t.Fatal(err)
		}
		remark := "展会客户"
		if err := e.ctl.EditContact(ctx, wecomsim.EditContactRequest{UserID: "zhangsan", ExternalUserID: res.ExternalUserID, Remark: &remark}); err != nil {
			t.Fatal(err)
		}
		e.idle()
		e.waitFor("a lead.updated naming the fetched name", func() bool {
			for _, u := range crm.ofType(webhook.EventLeadUpdated) {
				d := u["data"].(map[string]any)
				for _, ch := range d["changes"].([]any) {
					if ch.(map[string]any)["field"] == "name" && d["name"] == "韩梅梅" {
						return true
					}
				}
			}
			return false
		})
		if n := len(crm.ofType(webhook.EventLeadCreated)); n != 1 {
			t.Fatalf("lead.created sent %d times", n)
		}
	})
}

// TestTokensEndAtTheirExpiry: a token made with expires_at works until then
// (on the gateway's clock) and is 401 from then on, listed with its expiry;
// an expiry in the past is refused naming expires_at.
func TestTokensEndAtTheirExpiry(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		var bad struct {
			Error errorDetail `json:"error"`
		}
		past := e.clock.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		if st := e.api("POST", "/api/v1/tokens", map[string]any{"role": "crm", "name": "old", "expires_at": past}, &bad); st != 400 || bad.Error.Field != "expires_at" {
			t.Fatalf("expiry in the past: %d %+v", st, bad)
		}
		until := e.clock.Now().Add(time.Hour).UTC()
		var tok auth.Token
		if st := e.api("POST", "/api/v1/tokens", map[string]any{"role": "crm", "name": "trial", "expires_at": until.Format(time.RFC3339Nano)}, &tok); st != 201 ||
			tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(until.Truncate(time.Millisecond)) {
			t.Fatalf("token with an expiry: %d %+v", st, tok)
		}
		if st := e.api("GET", "/api/v1/me", nil, nil, tok.Secret); st != 200 {
			t.Fatalf("before its expiry: %d", st)
		}
		e.clock.Advance(59 * time.Minute)
		if st := e.api("GET", "/api/v1/me", nil, nil, tok.Secret); st != 200 {
			t.Fatalf("a minute before its expiry: %d", st)
		}
		e.clock.Advance(2 * time.Minute)
		if st := e.api("GET", "/api/v1/me", nil, nil, tok.Secret); st != 401 {
			t.Fatalf("after its expiry: %d", st)
		}
		var list struct {
			Tokens []auth.Token `json:"tokens"`
		}
		e.api("GET", "/api/v1/tokens", nil, &list)
		for _, x := range list.Tokens {
			if x.ID == tok.ID && (x.ExpiresAt == nil || x.RevokedAt != nil) {
				t.Fatalf("listed as %+v", x)
			}
		}
	})
}
