package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

// A customer who scanned a code through the simulator, with a mobile an
// admin set on their lead: neither the name nor the mobile is anywhere in
// the database's bytes (the SQLite file and WAL after a checkpoint; every
// column of every MariaDB table, and mysqldump's dump of the database), while the API shows both and finds the
// lead by its mobile (blind index) and by part of the name.
func TestCustomersNameAndMobileAreNotInTheDatabase(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		const mobile = "13712398765"
		name := "Quintessa Vexley 晏"
		code := e.createCode(map[string]any{"name": "sealed", "roster": roster(member("zhangsan"))})
		e.scan(code, name)
		e.idle()
		var leads struct {
			Leads []webhook.Lead `json:"leads"`
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
			Contacts []contact.ContactView `json:"contacts"`
		}
		if st := e.api("GET", "/api/v1/contacts?q=quintessa", nil, &contacts); st != 200 || len(contacts.Contacts) != 1 || contacts.Contacts[0].Name != name {
			t.Fatalf("contacts ?q=quintessa: %d %+v", st, contacts)
		}

		for _, s := range []string{mobile, "Quintessa", "Vexley"} {
			if sealed, plain := dbGrep(t, e, s); len(plain) != 0 || len(sealed) == 0 {
				t.Errorf("%q: sealed in %v, plain in %v", s, sealed, plain)
			}
		}
		if e.gw.cfg.DB.Driver == "mysql" {
			dump := mysqlDump(t, e.gw.cfg.DB.DSN)
			if !bytes.Contains(dump, []byte(lead.ExternalUserID)) {
				t.Fatal("the dump does not hold the contact's external_userid: the grep reads nothing")
			}
			for _, s := range []string{mobile, "Quintessa", "Vexley"} {
				if bytes.Contains(dump, []byte(s)) {
					t.Errorf("%q is in the MariaDB dump", s)
				}
			}
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

// mysqlDump is mysqldump's output for the database dsn names: every table's
// rows as the server holds them.
func mysqlDump(t *testing.T, dsn string) []byte {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--protocol=tcp", "-h", host, "-P", port, "-u", cfg.User, "--skip-extended-insert", cfg.DBName}
	cmd := exec.Command("mysqldump", args...)
	if cfg.Passwd != "" {
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+cfg.Passwd)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mysqldump (the MariaDB client's, needed beside the server): %v %s", err, stderr.String())
	}
	return out
}
