package main

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// The follow-up of an add is one job: the profile, the remark with the
// fetched {name}, the code's tags (in WeCom and on the relation) and the
// lead built from the profile. When the profile cannot be fetched for good
// it splits into the jobs it replaces, which still do the rest.
func TestTheFollowUpOfAnAddIsOneJob(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "一步", "tags": []string{"一步"}, "remark_template": "{name}-{code}",
			"welcome": map[string]any{"text": "欢迎"}, "roster": roster(member("zhangsan"))})
		leadOf := func(name string) *webhook.Lead {
			t.Helper()
			var page struct {
				Leads []*webhook.Lead `json:"leads"`
			}
			if st := e.api("GET", "/api/v1/leads?q="+url.QueryEscape(name), nil, &page); st != 200 || len(page.Leads) != 1 {
				t.Fatalf("lead of %s: %d %+v", name, st, page)
			}
			return page.Leads[0]
		}
		check := func(sc wecomsim.ScanResult, name string) {
			t.Helper()
			c, err := e.ctl.Contact(ctx, sc.ExternalUserID)
			if err != nil || len(c.FollowUser) != 1 || c.FollowUser[0].Remark != name+"-一步" || len(c.FollowUser[0].Tags) != 1 {
				t.Fatalf("in WeCom: %+v %v", c, err)
			}
			mc, err := e.gw.store.ContactByExternalID(ctx, e2eCorp, sc.ExternalUserID)
			if err != nil || mc.Name != name {
				t.Fatalf("contact: %+v %v", mc, err)
			}
			rels, err := e.gw.store.RelationsOf(ctx, mc.CorpID, sc.ExternalUserID)
			if err != nil || len(rels) != 1 || rels[0].Remark != name+"-一步" || rels[0].Tags != `["一步"]` {
				t.Fatalf("relation: %+v %v", rels, err)
			}
			if l := leadOf(name); l.Name != name || l.Behaviour.Adds != 1 || len(l.Tags) != 1 || l.Tags[0] != "一步" {
				t.Fatalf("lead: %+v", l)
			}
		}

		first := e.scan(code, "一号")
		e.idle()
		check(first, "一号")
		jobs, err := e.gw.store.ListJobs(ctx, model.JobFilter{Limit: 10})
		if err != nil || len(jobs) != 1 || jobs[0].Kind != contact.JobFollowUp || jobs[0].Status != model.StatusProcessed || jobs[0].Attempts != 1 {
			t.Fatalf("jobs of one add: %+v %v", jobs, err)
		}

		// No relationship (yet) in WeCom's eyes: a permanent refusal of the
		// profile. The steps go on as jobs of their own.
		if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "externalcontact/get", ErrCode: wecom.CodeNoRelationship, Count: 1}); err != nil {
			t.Fatal(err)
		}
		second := e.scan(code, "二号")
		e.idle()
		check(second, "二号")
		kinds := map[string]string{}
		jobs, _ = e.gw.store.ListJobs(ctx, model.JobFilter{Limit: 10})
		for _, j := range jobs[:len(jobs)-1] {
			kinds[j.Kind] = j.Status
		}
		want := map[string]string{contact.JobFollowUp: model.StatusProcessed, contact.JobFetchProfile: model.StatusProcessed,
			contact.JobRemark: model.StatusProcessed, livecode.JobMarkTag: model.StatusProcessed, lead.JobLeadActivity: model.StatusProcessed}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Fatalf("jobs of the second add: %v, want %v", kinds, want)
		}
	})
}
