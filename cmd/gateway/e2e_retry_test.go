package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// A job that failed for good runs again when an admin asks, one by id or
// all failed jobs of a kind at once; jobs that have not failed are left as
// they are, and a bad filter is refused with its field.
func TestFailedJobsAreRetriedFromTheAPI(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "重试", "tags": []string{"重试"}, "roster": roster(member("zhangsan"))})
		// 40068 (invalid tag id) is permanent: the mark_tag jobs fail.
		if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "mark_tag", ErrCode: 40068, Count: 3}); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			e.scan(code, fmt.Sprint("客户", i))
		}
		e.idle()
		failed, err := e.gw.store.ListJobs(ctx, model.JobFilter{Kind: livecode.JobMarkTag, Status: model.StatusFailed})
		if err != nil || len(failed) != 3 {
			t.Fatalf("failed mark_tag jobs = %d (%v), want 3", len(failed), err)
		}

		var one service.JobView
		if st := e.api("POST", fmt.Sprintf("/api/v1/jobs/%d/retry", failed[0].ID), nil, &one); st != 200 || one.ID != failed[0].ID || one.Status == model.StatusFailed || one.Error != "" {
			t.Fatalf("retry one: %d %+v", st, one)
		}
		e.idle()
		if j, _ := e.gw.store.GetJob(ctx, failed[0].ID); j.Status != model.StatusProcessed {
			t.Fatalf("retried job ended %s (%s)", j.Status, j.Error)
		}
		var bad map[string]map[string]string
		if st := e.api("POST", fmt.Sprintf("/api/v1/jobs/%d/retry", failed[0].ID), nil, &bad); st != 400 || bad["error"]["field"] != "id" {
			t.Fatalf("retry of a processed job: %d %v", st, bad)
		}
		if st := e.api("POST", "/api/v1/jobs/999999/retry", nil, &bad); st != 404 {
			t.Fatalf("retry of a missing job: %d", st)
		}
		if st := e.api("POST", "/api/v1/jobs/retry", map[string]any{"status": "processed"}, &bad); st != 400 || bad["error"]["field"] != "status" {
			t.Fatalf("bad status filter: %d %v", st, bad)
		}
		var res struct {
			Retried int `json:"retried"`
		}
		if st := e.api("POST", "/api/v1/jobs/retry", map[string]any{"kind": contact.JobRemark}, &res); st != 200 || res.Retried != 0 {
			t.Fatalf("retry of another kind: %d %+v", st, res)
		}
		if st := e.api("POST", "/api/v1/jobs/retry", map[string]any{"status": "failed", "kind": livecode.JobMarkTag}, &res); st != 200 || res.Retried != 2 {
			t.Fatalf("retry all: %d %+v", st, res)
		}
		e.idle()
		if n, _ := e.gw.store.CountJobs(ctx, "", model.StatusFailed); n != 0 {
			t.Fatalf("%d jobs still failed", n)
		}
		for _, j := range failed {
			if c, err := e.ctl.Contact(ctx, mustPayloadExt(t, j)); err != nil || len(c.FollowUser) != 1 || len(c.FollowUser[0].Tags) != 1 {
				t.Fatalf("contact of job %d not tagged after the retry: %+v %v", j.ID, c, err)
			}
		}
	})
}

func mustPayloadExt(t *testing.T, j model.Job) string {
	t.Helper()
	var p struct {
		ExternalUserID string `json:"external_userid"`
	}
	if err := jsonUnmarshal([]byte(j.Payload), &p); err != nil || p.ExternalUserID == "" {
		t.Fatalf("job %d payload %s: %v", j.ID, j.Payload, err)
	}
	return p.ExternalUserID
}
