package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/audit"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// scopeFixture: zhangsan's customer 韩梅梅 (code A), lisi's customer 李雷
// (code B), and 赵小满, who added both.
type scopeFixture struct {
	codeA, codeB             channelcode.ChannelCode
	own, others, shared      uint64 // contact ids
	ownLead, othersLead      uint64
	admin, viewer, crm       string
	zhangsan, lisi, unlinked string
}

func newScopeFixture(t *testing.T, e *e2e) *scopeFixture {
	ctx := context.Background()
	f := &scopeFixture{admin: e.token}
	f.codeA = e.createCode(map[string]any{"name": "展台A", "roster": roster(member("zhangsan"))})
	f.codeB = e.createCode(map[string]any{"name": "展台B", "roster": roster(member("lisi"))})
	e.scan(f.codeA, "韩梅梅")
	e.scan(f.codeB, "李雷")
	for _, code := range []channelcode.ChannelCode{f.codeA, f.codeB} {
		if _, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "赵小满", UnionID: "union-ww"}}); err != nil {
			t.Fatal(err)
		}
		e.idle()
	}
	e.idle()
	var all struct {
		Contacts []contact.ContactView `json:"contacts"`
	}
	if st := e.api("GET", "/api/v1/contacts", nil, &all); st != 200 || len(all.Contacts) != 3 {
		t.Fatalf("admin contacts: %d %+v", st, all)
	}
	for _, c := range all.Contacts {
		switch c.Name {
		case "韩梅梅":
			f.own = c.ID
		case "李雷":
			f.others = c.ID
		case "赵小满":
			f.shared = c.ID
		}
	}
	var leads struct {
		Leads []webhook.Lead `json:"leads"`
	}
	e.api("GET", "/api/v1/leads", nil, &leads)
	for _, l := range leads.Leads {
		switch l.ContactID {
		case f.own:
			f.ownLead = l.ID
		case f.others:
			f.othersLead = l.ID
		}
	}
	if f.own == 0 || f.others == 0 || f.shared == 0 || f.ownLead == 0 || f.othersLead == 0 {
		t.Fatalf("fixture: %+v", f)
	}
	tokens := auth.New(e.gw.store, nil)
	f.viewer, _, _ = tokens.CreateToken(ctx, "dashboard", auth.RoleViewer)
	f.crm, _, _ = tokens.CreateToken(ctx, "crm", auth.RoleCRM)
	f.zhangsan, _, _ = tokens.CreateTokenFor(ctx, "zhangsan", auth.RoleStaff, "zhangsan")
	f.lisi, _, _ = tokens.CreateTokenFor(ctx, "lisi", auth.RoleStaff, "lisi")
	f.unlinked, _, _ = tokens.CreateToken(ctx, "booth", auth.RoleStaff)
	return f
}

// TestStaffSeeOnlyTheirOwnCustomers: a staff token reads only the contacts
// its staff member follows, by every route, and every read route answers each
// role as documented.
func TestStaffSeeOnlyTheirOwnCustomers(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		f := newScopeFixture(t, e)
		type contactList struct {
			Contacts []contact.ContactView `json:"contacts"`
		}
		names := func(path, tok string) (int, []string) {
			var l contactList
			st := e.api("GET", path, nil, &l, tok)
			var out []string
			for _, c := range l.Contacts {
				out = append(out, c.Name)
			}
			sort.Strings(out)
			return st, out
		}
		for _, tc := range []struct {
			path, tok string
			status    int
			want      string
		}{
			{"/api/v1/contacts", f.zhangsan, 200, "[赵小满 韩梅梅]"},
			{"/api/v1/contacts", f.lisi, 200, "[李雷 赵小满]"},
			{"/api/v1/contacts", f.viewer, 200, "[李雷 赵小满 韩梅梅]"},
			{"/api/v1/contacts?staff=zhangsan", f.zhangsan, 200, "[赵小满 韩梅梅]"},
			{"/api/v1/contacts?staff=lisi", f.admin, 200, "[李雷 赵小满]"},
			{fmt.Sprintf("/api/v1/contacts?code=%d", f.codeA.ID), f.zhangsan, 200, "[赵小满 韩梅梅]"},
			{"/api/v1/contacts?q=李雷", f.zhangsan, 200, "[]"},
			{"/api/v1/contacts?q=赵小满", f.zhangsan, 200, "[赵小满]"},
			{fmt.Sprintf("/api/v1/contacts?code=%d", f.codeB.ID), f.zhangsan, 200, "[]"},
			{fmt.Sprintf("/api/v1/contacts?after=%d", max(f.own, f.shared)), f.zhangsan, 200, "[]"},
			{fmt.Sprintf("/api/v1/contacts?after=%d&limit=1", min(f.own, f.shared)), f.zhangsan, 200, "[" + map[bool]string{true: "赵小满", false: "韩梅梅"}[f.own < f.shared] + "]"},
			{"/api/v1/contacts?staff=lisi", f.zhangsan, 403, "[]"},
			{"/api/v1/contacts", f.unlinked, 403, "[]"},
			{"/api/v1/contacts", f.crm, 403, "[]"},
		} {
			st, got := names(tc.path, tc.tok)
			if st != tc.status || fmt.Sprint(got) != tc.want && !(tc.want == "[]" && got == nil) {
				t.Errorf("GET %s: %d %v, want %d %s", tc.path, st, got, tc.status, tc.want)
			}
		}

		// Another staff member's customer is not found by id, whatever the route.
		contactURL := func(id uint64) string { return fmt.Sprintf("/api/v1/contacts/%d", id) }
		for _, tc := range []struct {
			path, tok string
			status    int
		}{
			{contactURL(f.own), f.zhangsan, 200},
			{contactURL(f.shared), f.zhangsan, 200},
			{contactURL(f.others), f.zhangsan, 404},
			{contactURL(f.own), f.lisi, 404},
			{contactURL(f.others), f.viewer, 200},
			{contactURL(f.others), f.unlinked, 404},
			{contactURL(f.others), f.crm, 403},
			{fmt.Sprintf("/api/v1/leads/%d", f.othersLead), f.zhangsan, 404},
			{fmt.Sprintf("/api/v1/leads/%d", f.ownLead), f.zhangsan, 200},
			{fmt.Sprintf("/api/v1/leads/%d", f.ownLead), f.lisi, 404},
		} {
			if st := e.api("GET", tc.path, nil, nil, tc.tok); st != tc.status {
				t.Errorf("GET %s: %d, want %d", tc.path, st, tc.status)
			}
		}
		var leads struct {
			Leads []webhook.Lead `json:"leads"`
		}
		if st := e.api("GET", fmt.Sprintf("/api/v1/leads?contact=%d", f.others), nil, &leads, f.zhangsan); st != 200 || len(leads.Leads) != 0 {
			t.Errorf("lead of another's contact: %d %+v", st, leads)
		}

		// The shared customer shows the staff member's own relation and only
		// the timeline entries that are theirs or no one's.
		var detail struct {
			Contact   contact.ContactView `json:"contact"`
			Relations []struct {
				Relation contact.RelationView `json:"relation"`
			} `json:"relations"`
			Timeline []contact.TimelineView `json:"timeline"`
		}
		e.api("GET", contactURL(f.shared), nil, &detail)
		if len(detail.Relations) != 2 {
			t.Fatalf("admin sees %d relations of the shared customer", len(detail.Relations))
		}
		var lisiEntries int
		for _, en := range detail.Timeline {
			if en.UserID == "lisi" {
				lisiEntries++
			}
		}
		if lisiEntries == 0 {
			t.Fatalf("no timeline entry of lisi's: %+v", detail.Timeline)
		}
		detail.Relations, detail.Timeline = nil, nil
		e.api("GET", contactURL(f.shared), nil, &detail, f.zhangsan)
		if len(detail.Relations) != 1 || detail.Relations[0].Relation.UserID != "zhangsan" || len(detail.Timeline) == 0 {
			t.Fatalf("zhangsan's view of the shared customer: %+v", detail)
		}
		for _, en := range detail.Timeline {
			if en.UserID != "" && en.UserID != "zhangsan" {
				t.Errorf("zhangsan sees lisi's timeline entry %+v", en)
			}
		}

		// A channel code's stats give a staff member their own figures only.
		var stats channelcode.CodeStats
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", f.codeB.ID), nil, &stats, f.zhangsan)
		if stats.Total.Adds != 0 || len(stats.Staff) != 0 || len(stats.Days) != 0 {
			t.Errorf("zhangsan's view of lisi's code stats: %+v", stats)
		}
		stats = channelcode.CodeStats{}
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", f.codeB.ID), nil, &stats, f.lisi)
		if stats.Total.Adds != 2 || stats.Staff["lisi"] == nil || stats.Staff["lisi"].Adds != 2 {
			t.Errorf("lisi's own code stats: %+v", stats)
		}
		if st := e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", f.codeB.ID), nil, nil, f.unlinked); st != 403 {
			t.Errorf("unlinked staff token reads stats: %d", st)
		}

		// Every read route, per role.
		a := fmt.Sprintf("%d", f.codeA.ID)
		for i, tc := range []struct {
			path                      string
			admin, viewer, staff, crm int
		}{
			{"/api/v1/me", 200, 200, 200, 200},
			{"/api/v1/events", 200, 403, 403, 403},
			{"/api/v1/jobs", 200, 403, 403, 403},
			{"/api/v1/channel-codes", 200, 200, 200, 403},
			{"/api/v1/channel-codes/" + a, 200, 200, 200, 403},
			{"/api/v1/channel-codes/" + a + "/stats", 200, 200, 200, 403},
			{"/api/v1/contacts", 200, 200, 200, 403},
			{contactURL(f.own), 200, 200, 200, 403},
			{contactURL(f.others), 200, 200, 404, 403},
			{"/api/v1/leads", 200, 200, 200, 403},
			{fmt.Sprintf("/api/v1/leads/%d", f.othersLead), 200, 200, 404, 200},
			{"/api/v1/tokens", 200, 403, 403, 403},
			{"/api/v1/funnel", 200, 200, 403, 403},
			{"/api/v1/scoring", 200, 200, 200, 403},
			{"/api/v1/tag-rules", 200, 200, 403, 403},
			{"/api/v1/tags", 200, 200, 200, 403},
			{"/api/v1/group-codes", 200, 200, 200, 403},
			{"/api/v1/stores", 200, 200, 200, 403},
			{"/api/v1/store-codes", 200, 200, 200, 403},
			{"/api/v1/webhook-endpoints", 200, 403, 403, 403},
			{"/api/v1/webhook-deliveries", 200, 403, 403, 403},
		} {
			for _, r := range []struct {
				role, tok string
				want      int
			}{{"admin", f.admin, tc.admin}, {"viewer", f.viewer, tc.viewer}, {"staff", f.zhangsan, tc.staff}, {"crm", f.crm, tc.crm}} {
				if st := e.api("GET", tc.path, nil, nil, r.tok); st != r.want {
					t.Errorf("GET %s as %s: %d, want %d", tc.path, r.role, st, r.want)
				}
			}
			// A few bad tokens only: 20 from one client are throttled (429).
			if i < 5 {
				if st := e.api("GET", tc.path, nil, nil, "gw_not-a-token"); st != 401 {
					t.Errorf("GET %s with a bad token: %d, want 401", tc.path, st)
				}
			}
		}
	})
}

// Outside demo mode the simulator's control API and WeCom endpoints are not
// mounted, and /readyz says production.
func TestSimulatorIsNotMountedOutsideDemo(t *testing.T) {
	e := startE2E(t, "sqlite")
	for _, path := range []string{"/sim/config", "/sim/faults", "/sim/scan", "/cgi-bin/gettoken?corpid=x&corpsecret=y"} {
		for _, method := range []string{"GET", "POST"} {
			req, _ := http.NewRequest(method, e.base+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", method, path, resp.StatusCode)
			}
		}
	}
	var ready map[string]any
	getJSON(t, e.base+"/readyz", "", &ready)
	if ready["mode"] != "production" {
		t.Fatalf("readyz = %v", ready)
	}
}

// Landing pages carry a CSP that allows only their own inline blocks (by
// hash) and forbids framing; the browser test runs the store page under it.
func TestLandingPagesForbidFramingAndForeignScripts(t *testing.T) {
	e := startE2E(t, "sqlite")
	code := e.createCode(map[string]any{"name": "展台", "mode": "precise", "roster": roster(member("zhangsan"))})
	block := regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)
	for _, path := range []string{"/c/" + code.Slug, "/c/nope", "/g/nope", "/s/nope"} {
		resp, err := http.Get(e.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") ||
			resp.Header.Get("X-Frame-Options") != "DENY" || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: %d, CSP %q, X-Frame-Options %q", path, resp.StatusCode, csp, resp.Header.Get("X-Frame-Options"))
		}
		blocks := block.FindAllSubmatch(body, -1)
		if len(blocks) == 0 {
			t.Errorf("%s: no inline block in %s", path, body)
		}
		for _, m := range blocks {
			sum := sha256.Sum256(m[2])
			if h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, string(m[1])+"-src "+h) && !strings.Contains(csp, " "+h) {
				t.Errorf("%s: the page's %s block is not allowed by %q", path, m[1], csp)
			}
		}
	}
}

// Every read of a customer's or lead's personal data by a token is in the
// audit: who, what, when and from where; a refused read is not a read.
func TestReadsOfPersonalDataAreAudited(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		f := newScopeFixture(t, e)
		start := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		type page struct {
			Entries    []audit.Entry `json:"entries"`
			NextBefore uint64        `json:"next_before"`
		}
		audit := func(query string) []audit.Entry {
			t.Helper()
			var p page
			if st := e.api("GET", "/api/v1/audit?"+query, nil, &p); st != 200 {
				t.Fatalf("audit?%s: %d", query, st)
			}
			return p.Entries
		}
		before := len(audit("subject=" + fmt.Sprintf("contact:%d", f.own)))
		e.api("GET", fmt.Sprintf("/api/v1/contacts/%d", f.own), nil, nil, f.zhangsan)
		e.api("GET", fmt.Sprintf("/api/v1/contacts/%d", f.others), nil, nil, f.zhangsan) // 404: not a read
		e.api("GET", fmt.Sprintf("/api/v1/leads/%d", f.ownLead), nil, nil, f.viewer)
		e.api("GET", "/api/v1/contacts", nil, nil, f.lisi)

		got := audit(fmt.Sprintf("subject=contact:%d", f.own))
		if len(got) != before+1 {
			t.Fatalf("entries for contact %d: %+v", f.own, got)
		}
		if en := got[0]; en.Action != "read" || en.Role != "staff" || en.TokenName != "zhangsan" || en.Client != "127.0.0.1" ||
			en.Route != "/api/v1/contacts/:id" || en.RequestID == "" || time.Since(en.At.Time) > time.Hour {
			t.Fatalf("entry = %+v", en)
		}
		if got := audit(fmt.Sprintf("subject=contact:%d&token=%d", f.others, tokenID(t, e, f.zhangsan))); len(got) != 0 {
			t.Fatalf("a refused read was recorded: %+v", got)
		}
		if got := audit(fmt.Sprintf("subject=lead:%d&from=%s&token=%d", f.ownLead, start, tokenID(t, e, f.viewer))); len(got) != 1 || got[0].Role != "viewer" {
			t.Fatalf("lead read: %+v", got)
		}
		// A list records each contact it showed.
		lisi := audit(fmt.Sprintf("token=%d", tokenID(t, e, f.lisi)))
		var listed []string
		for _, en := range lisi {
			if en.Action != "list" {
				t.Errorf("lisi's entry %+v", en)
			}
			listed = append(listed, en.Subject)
		}
		sort.Strings(listed)
		if want := []string{fmt.Sprintf("contact:%d", f.others), fmt.Sprintf("contact:%d", f.shared)}; fmt.Sprint(listed) != fmt.Sprint(sortedStrings(want)) {
			t.Fatalf("lisi's list recorded %v, want %v", listed, want)
		}
		if got := audit("to=" + start); len(got) != 0 {
			t.Fatalf("entries before the test: %+v", got)
		}
		for _, q := range []string{"subject=contact", "subject=person:1", "token=x", "from=yesterday", "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"} {
			if st := e.api("GET", "/api/v1/audit?"+q, nil, nil); st != 400 {
				t.Errorf("audit?%s: %d, want 400", q, st)
			}
		}
		for _, tok := range []string{f.viewer, f.zhangsan, f.crm} {
			if st := e.api("GET", "/api/v1/audit", nil, nil, tok); st != 403 {
				t.Errorf("audit as a non-admin: %d", st)
			}
		}
	})
}

func tokenID(t *testing.T, e *e2e, tok string) uint64 {
	var me auth.Principal
	if st := e.api("GET", "/api/v1/me", nil, &me, tok); st != 200 {
		t.Fatalf("me: %d", st)
	}
	return me.TokenID
}

func sortedStrings(s []string) []string { sort.Strings(s); return s }

// An admin exports everything held about a customer as one JSON document;
// the export is audited, and no other role may export.
func TestContactExportHoldsEverythingAndIsAudited(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		f := newScopeFixture(t, e)
		var x struct {
			Contact   contact.ContactView     `json:"contact"`
			Relations []contact.RelationView  `json:"relations"`
			Tags      map[string][]string     `json:"relation_tags"`
			Timeline  []contact.TimelineView  `json:"timeline"`
			Lead      *webhook.Lead           `json:"lead"`
			Events    []contact.ExportedEvent `json:"events"`
		}
		path := fmt.Sprintf("/api/v1/contacts/%d/export", f.shared)
		if st := e.api("GET", path, nil, &x); st != 200 {
			t.Fatalf("export: %d", st)
		}
		if x.Contact.Name != "赵小满" || len(x.Relations) != 2 || len(x.Tags) != 2 || len(x.Timeline) == 0 ||
			x.Lead == nil || x.Lead.ContactID != f.shared || len(x.Lead.Transitions) == 0 || len(x.Events) < 2 {
			t.Fatalf("export = %+v", x)
		}
		for _, ev := range x.Events {
			if !strings.Contains(ev.Payload, x.Contact.ExternalUserID) {
				t.Errorf("event %d is not about the contact: %s", ev.ID, ev.Payload)
			}
		}
		var audit struct {
			Entries []audit.Entry `json:"entries"`
		}
		e.api("GET", fmt.Sprintf("/api/v1/audit?subject=contact:%d", f.shared), nil, &audit)
		if len(audit.Entries) == 0 || audit.Entries[0].Action != "export" || audit.Entries[0].Route != "/api/v1/contacts/:id/export" {
			t.Fatalf("export not audited: %+v", audit.Entries)
		}
		for _, tok := range []string{f.viewer, f.zhangsan, f.crm} {
			if st := e.api("GET", path, nil, nil, tok); st != 403 {
				t.Errorf("export as a non-admin: %d", st)
			}
		}
		if st := e.api("GET", "/api/v1/contacts/999999/export", nil, nil); st != 404 {
			t.Errorf("export of no contact: %d", st)
		}
	})
}

// dbHolds reports the tables of the gateway's database in which some value
// contains s, sealed values opened: a grep of the whole database.
func dbHolds(t *testing.T, e *e2e, s string) []string {
	t.Helper()
	opened, plain := dbGrep(t, e, s)
	return append(opened, plain...)
}

// dbGrep reports the tables holding s in a sealed value (opened with the
// gateway's keyring) and in plain.
func dbGrep(t *testing.T, e *e2e, s string) (sealed, plain []string) {
	t.Helper()
	drv := e.gw.cfg.DB.Driver
	db, err := sql.Open(drv, e.gw.cfg.DB.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if drv == "mysql" {
		list = "SHOW TABLES"
	}
	rows, err := db.Query(list)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	kr := e.gw.store.Keyring()
	for _, table := range tables {
		rows, err := db.Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		inPlain, inSealed := false, false
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if strings.Contains(string(v), s) {
					inPlain = true
				}
				if strings.HasPrefix(string(v), "v1:") {
					opened, err := kr.Open(table+"."+cols[i], string(v))
					if err != nil {
						t.Fatalf("%s.%s: %v", table, cols[i], err)
					}
					inSealed = inSealed || strings.Contains(opened, s)
				}
			}
		}
		rows.Close()
		if inSealed {
			sealed = append(sealed, table)
		}
		if inPlain {
			plain = append(plain, table)
		}
	}
	return sealed, plain
}

// An erased customer's personal data is gone from every table (the unsent
// outbox body and stored answers included), the CRM gets contact.erased
// once, counts and statistics stay, and erasing again changes nothing.
func TestEraseRemovesACustomersDataEverywhere(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		crm := e.crmEndpoint("/erased", "contact.erased")
		// An endpoint that never answers keeps contact.added bodies unsent.
		var ep map[string]any
		if st := e.api("POST", "/api/v1/webhook-endpoints", map[string]any{"url": "http://127.0.0.1:1/down", "event_types": []string{"contact.added", "lead.created"}}, &ep); st != 201 {
			t.Fatalf("endpoint: %d %v", st, ep)
		}
		f := newScopeFixture(t, e)
		if sealed, plain := dbGrep(t, e, "赵小满"); len(sealed) == 0 || len(plain) != 0 {
			t.Fatalf("before erasure the name is sealed in %v, plain in %v", sealed, plain)
		}
		// Free text about the customer beyond the profile: a BANT note, a
		// mobile, and the CRM's rejection reason in the stage history.
		var leads struct {
			Leads []webhook.Lead `json:"leads"`
		}
		e.api("GET", fmt.Sprintf("/api/v1/leads?contact=%d", f.shared), nil, &leads)
		if len(leads.Leads) != 1 {
			t.Fatalf("the shared customer's lead: %+v", leads)
		}
		leadID := leads.Leads[0].ID
		yes := map[string]string{"value": "yes"}
		var patched webhook.Lead
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/leads/%d", leadID), map[string]any{"mobile": "13600001111", "bant": map[string]any{
			"need": map[string]string{"value": "yes", "note": "赵小满 needs 40 seats"}, "budget": yes, "authority": yes, "timeline": yes}}, &patched); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		if patched.Stage != lead.StageHandedOff {
			t.Fatalf("not handed to the CRM: %+v", patched)
		}
		if st := e.api("POST", fmt.Sprintf("/api/v1/crm/leads/%d/status", leadID), map[string]any{"event_id": "crm-erase-1", "status": "rejected",
			"reason": "赵小满 said no"}, nil, f.crm); st != 200 {
			t.Fatalf("crm answer: %d", st)
		}
		var statsBefore channelcode.CodeStats
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", f.codeA.ID), nil, &statsBefore)

		path := fmt.Sprintf("/api/v1/contacts/%d/erase", f.shared)
		for _, tok := range []string{f.viewer, f.zhangsan, f.crm} {
			if st := e.api("POST", path, nil, nil, tok); st != 403 {
				t.Errorf("erase as a non-admin: %d", st)
			}
		}
		var res contact.Erasure
		if st := e.api("POST", path, nil, &res); st != 200 || !res.Erased || res.LeadID == 0 {
			t.Fatalf("erase: %d %+v", st, res)
		}
		for _, s := range []string{"赵小满", "13600001111", "40 seats", "said no"} {
			if got := dbHolds(t, e, s); len(got) != 0 {
				t.Fatalf("the erased %q is still in %v", s, got)
			}
		}
		if got := dbHolds(t, e, "韩梅梅"); len(got) == 0 {
			t.Fatal("erasing one customer erased another")
		}
		erased := crm.await(t, "contact.erased", 1)
		delete(erased[0], "webhook-id")
		conforms(t, "contact.erased.v1.json", erased[0])
		data := erased[0]["data"].(map[string]any)
		if data["contact_id"] != float64(f.shared) || data["lead_id"] != float64(res.LeadID) {
			t.Fatalf("contact.erased = %v", erased[0])
		}
		// Again: nothing changes, nothing is sent.
		res = contact.Erasure{}
		if st := e.api("POST", path, nil, &res); st != 200 || res.Erased {
			t.Fatalf("erase again: %d %+v", st, res)
		}
		var statsAfter channelcode.CodeStats
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", f.codeA.ID), nil, &statsAfter)
		var all struct {
			Contacts []contact.ContactView `json:"contacts"`
		}
		e.api("GET", "/api/v1/contacts", nil, &all)
		if statsAfter.Total != statsBefore.Total || len(all.Contacts) != 3 {
			t.Fatalf("counts changed: %+v → %+v, %d contacts", statsBefore.Total, statsAfter.Total, len(all.Contacts))
		}
		var audit struct {
			Entries []audit.Entry `json:"entries"`
		}
		e.api("GET", fmt.Sprintf("/api/v1/audit?subject=contact:%d", f.shared), nil, &audit)
		var erasures int
		for _, en := range audit.Entries {
			if en.Action == "erase" {
				erasures++
			}
		}
		if erasures != 1 {
			t.Fatalf("erasures audited: %d", erasures)
		}
		if st := e.api("POST", "/api/v1/contacts/999999/erase", nil, nil); st != 404 {
			t.Fatalf("erase of no contact: %d", st)
		}
		if got := len(crm.ofType("contact.erased")); got != 1 {
			t.Fatalf("contact.erased sent %d times", got)
		}
	})
}

// The retention settings, on the gateway's clock: audit entries older than
// audit.retention (48 h here) are deleted, younger ones kept; a customer
// whose every relation ended longer ago than privacy.erase_lost_after (72 h)
// is erased, with contact.erased to the CRM and an audit entry, while one
// lost for less, or still followed by another staff member, is kept.
func TestRetentionSettingsEraseLostCustomersAndOldAuditEntries(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			e := startE2E(t, d, func(c *config.Config) {
				c.Audit.Retention = 48 * time.Hour
				c.Privacy.EraseLostAfter = 72 * time.Hour
			})
			ctx := context.Background()
			crm := e.crmEndpoint("/erased", "contact.erased")
			crm.mu.Lock()
			crm.now = e.clock.Now
			crm.mu.Unlock()
			f := newScopeFixture(t, e)
			start := e.clock.Now()
			var all struct {
				Contacts []contact.ContactView `json:"contacts"`
			}
			e.api("GET", "/api/v1/contacts", nil, &all) // audited: three list entries
			auditedBefore := func(at time.Time) int {
				var audit struct {
					Entries []audit.Entry `json:"entries"`
				}
				if st := e.api("GET", "/api/v1/audit?limit=500&to="+at.UTC().Format(time.RFC3339Nano), nil, &audit); st != 200 {
					t.Fatalf("audit: %d", st)
				}
				return len(audit.Entries)
			}
			if n := auditedBefore(start.Add(time.Minute)); n < 3 {
				t.Fatalf("audit entries at the start: %d", n)
			}
			// 韩梅梅 deletes zhangsan: her only relation ends. 赵小满 leaves
			// zhangsan but still has lisi.
			ext := map[uint64]string{}
			for _, c := range all.Contacts {
				ext[c.ID] = c.ExternalUserID
			}
			for _, ext := range []string{ext[f.own], ext[f.shared]} {
				if err := e.ctl.DeleteStaff(ctx, wecomsim.RelationRequest{UserID: "zhangsan", ExternalUserID: ext}); err != nil {
					t.Fatal(err)
				}
			}
			e.idle()

			// 47 h on: the audit keeps what is younger than 48 h.
			e.clock.Advance(47 * time.Hour)
			if n, err := e.gw.audit.Prune(ctx); err != nil || n != 0 {
				t.Fatalf("prune at 47 h: %d, %v", n, err)
			}
			if n := auditedBefore(start.Add(time.Minute)); n < 3 {
				t.Fatalf("audit entries at 47 h: %d", n)
			}
			// 49 h on: the hourly pass deletes the first hour's entries.
			e.clock.Advance(2 * time.Hour)
			e.waitFor("the audit pruned past 48 h", func() bool { return auditedBefore(start.Add(time.Minute)) == 0 })

			// 71 h on: nobody has been lost for 72 h yet.
			e.clock.Advance(22 * time.Hour)
			if n, err := e.gw.contacts.EraseLostFor(ctx, e.gw.cfg.Privacy.EraseLostAfter, e.gw.audit); err != nil || n != 0 {
				t.Fatalf("erased at 71 h: %d, %v", n, err)
			}
			if got := dbHolds(t, e, "韩梅梅"); len(got) == 0 {
				t.Fatal("erased before the retention period ended")
			}
			// 73 h on: the hourly pass erases 韩梅梅 alone.
			e.clock.Advance(2 * time.Hour)
			if got := crm.await(t, "contact.erased", 1); len(got) != 1 || got[0]["data"].(map[string]any)["contact_id"] != float64(f.own) {
				t.Fatalf("contact.erased = %v", got)
			}
			if got := dbHolds(t, e, "韩梅梅"); len(got) != 0 {
				t.Fatalf("the lost customer's name is still in %v", got)
			}
			if got := dbHolds(t, e, "赵小满"); len(got) == 0 {
				t.Fatal("a customer still followed by lisi was erased")
			}
			var audit struct {
				Entries []audit.Entry `json:"entries"`
			}
			e.api("GET", fmt.Sprintf("/api/v1/audit?subject=contact:%d", f.own), nil, &audit)
			if len(audit.Entries) == 0 || audit.Entries[0].Action != "erase" || audit.Entries[0].Role != "system" {
				t.Fatalf("the erasure's audit entry: %+v", audit.Entries)
			}
			if n, err := e.gw.contacts.EraseLostFor(ctx, e.gw.cfg.Privacy.EraseLostAfter, e.gw.audit); err != nil || n != 0 {
				t.Fatalf("again: %d %v", n, err)
			}
		})
	}
}
