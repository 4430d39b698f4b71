package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadgate/scrm-gateway/service"
)

// A customer who scanned a code through the simulator, with a mobile an
// admin set on their lead: neither the name nor the mobile is anywhere in
// the database's bytes (the SQLite file and WAL after a checkpoint; every
// column of every MariaDB table), while the API shows both and finds the
// lead by its mobile (blind index) and by part of the name.
func TestCustomersNameAndMobileAreNotInTheDatabase(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		const mobile = "13712398765"
		name := "Quintessa Vexley 晏"
		code := e.createCode(map[string]any{"name": "sealed", "roster": roster(member("zhangsan"))})
		e.scan(code, name)
		e.idle()
		var leads struct {
			Leads []service.Lead `json:"leads"`
		}
		if st := e.api("GET", "/api/v1/leads?q=vexley", nil, &leads); st != 200 || len(leads.Leads) != 1 {
			t.Fatalf("leads ?q=vexley: %d %+v", st, leads)
		}
		lead := leads.Leads[0]
		huge := strings.Repeat("😀", 128) // the longest name an admin may set, 512 bytes
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/leads/%d", lead.ID), map[string]any{"mobile": "+86 137-1239-8765", "corp_name": huge}, nil); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		for _, q := range []string{mobile, "+86%20137%201239%208765", "Quintessa", "%E6%99%8F"} {
			leads.Leads = nil
			if st := e.api("GET", "/api/v1/leads?q="+q, nil, &leads); st != 200 || len(leads.Leads) != 1 || leads.Leads[0].Mobile != mobile || leads.Leads[0].CorpName != huge {
				t.Fatalf("leads ?q=%s: %d %+v", q, st, leads)
			}
		}
		var contacts struct {
			Contacts []service.ContactView `json:"contacts"`
		}
		if st := e.api("GET", "/api/v1/contacts?q=quintessa", nil, &contacts); st != 200 || len(contacts.Contacts) != 1 || contacts.Contacts[0].Name != name {
			t.Fatalf("contacts ?q=quintessa: %d %+v", st, contacts)
		}

		for _, s := range []string{mobile, "Quintessa", "Vexley"} {
			if sealed, plain := dbGrep(t, e, s); len(plain) != 0 || len(sealed) == 0 {
				t.Errorf("%q: sealed in %v, plain in %v", s, sealed, plain)
			}
		}
		if e.gw.cfg.DB.Driver != "sqlite" {
			return
		}
		db, err := sql.Open("sqlite", e.gw.cfg.DB.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(e.gw.cfg.DB.DSN + "*")
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if !bytes.Contains(all, []byte(lead.ExternalUserID)) {
			t.Fatal("the file does not hold the contact's external_userid: the grep reads nothing")
		}
		for _, s := range []string{mobile, "Quintessa", "Vexley"} {
			if bytes.Contains(all, []byte(s)) {
				t.Errorf("%q is in the SQLite file", s)
			}
		}
	})
}
