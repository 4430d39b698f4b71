package model_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

const (
	secretMobile  = "13987654321"
	secretName    = "Zephyrine Quixotl"
	secretCorp    = "Blorptech Widgets"
	secretRemark  = "VIP-Xanthippe"
	secretAvatar  = "https://wework.qpic.cn/avatar/Mnemosyne.png"
	secretToken   = "wecomtoken-Ouroboros-42"
	secretWebhook = "whsec_Thelonious0123456789"
)

func keyring(t testing.TB, keys ...string) *model.Keyring {
	t.Helper()
	var dk []model.DataKey
	for _, k := range keys {
		id, secret, _ := strings.Cut(k, "=")
		dk = append(dk, model.DataKey{ID: id, Secret: []byte(fmt.Sprintf("%-32s", secret))})
	}
	kr, err := model.NewKeyring(dk...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func openWith(t testing.TB, driver, dsn string, kr *model.Keyring) *model.Store {
	t.Helper()
	st, err := model.Open(driver, dsn, model.Options{Clock: clock.Real{}, Keys: kr, MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// seedPersonalData stores a customer with a profile, a remark and a lead
// with a mobile, a WeCom access token and a webhook endpoint's secret, and
// returns the contact's id.
func seedPersonalData(t *testing.T, st *model.Store, external string) uint64 {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	_, _, cid, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "c1", EventID: 0, UserID: "zhangsan", ExternalUserID: external, At: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateContactProfile(ctx, "c1", external, model.ContactProfile{Name: secretName, CorpName: secretCorp, Avatar: secretAvatar},
		"zhangsan", secretRemark, "[]"); err != nil {
		t.Fatal(err)
	}
	err = st.UpdateLeadOfContact(ctx, "c1", cid, func(c *model.Contact) *model.Lead {
		return &model.Lead{CorpID: "c1", ContactID: c.ID, ExternalUserID: c.ExternalUserID, Name: c.Name, CorpName: c.CorpName,
			Mobile: secretMobile, MobileValid: true, Stage: "new", Tags: "[]", StageChangedAt: now, LastActivityAt: now}
	}, func(lt *model.LeadTx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveWeComToken(ctx, "c1:access", secretToken, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebhookEndpoint(ctx, &model.WebhookEndpoint{CorpID: "c1", URL: "https://crm.example.com/hook", Secret: secretWebhook, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return cid
}

// checkReadable reads everything seedPersonalData stored back in plain.
func checkReadable(t *testing.T, st *model.Store, cid uint64, customers int) {
	t.Helper()
	ctx := context.Background()
	d, err := st.GetContact(ctx, "c1", cid)
	if err != nil {
		t.Fatal(err)
	}
	if d.Contact.Name != secretName || d.Contact.CorpName != secretCorp || d.Contact.Avatar != secretAvatar || d.Relations[0].Remark != secretRemark {
		t.Fatalf("contact read back as %+v %+v", d.Contact, d.Relations)
	}
	leads, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "+86 139-8765-4321"})
	if err != nil || len(leads) != customers || leads[0].Mobile != secretMobile || leads[0].Name != secretName {
		t.Fatalf("lead by mobile: %+v %v", leads, err)
	}
	if leads, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "13987654320"}); err != nil || len(leads) != 0 {
		t.Fatalf("a number that is not the mobile found %+v %v", leads, err)
	}
	for _, q := range []string{"zephyrine", "Blorptech", "98765"} {
		if leads, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: q}); err != nil || len(leads) != customers {
			t.Fatalf("leads ?q=%s: %+v %v", q, leads, err)
		}
	}
	for _, q := range []string{"QUIXOTL", "widgets"} {
		if cs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", Q: q}); err != nil || len(cs) != customers || cs[0].Name != secretName {
			t.Fatalf("contacts ?q=%s: %+v %v", q, cs, err)
		}
	}
	if cs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", Q: "nobody"}); err != nil || len(cs) != 0 {
		t.Fatalf("contacts ?q=nobody: %+v %v", cs, err)
	}
	if v, _, ok, err := st.LoadWeComToken(ctx, "c1:access"); err != nil || !ok || v != secretToken {
		t.Fatalf("token %q %v %v", v, ok, err)
	}
	eps, err := st.ListWebhookEndpoints(ctx, "c1")
	if err != nil || len(eps) != customers || eps[0].Secret != secretWebhook {
		t.Fatalf("endpoints %+v %v", eps, err)
	}
}

var secrets = []string{secretMobile, secretName, secretCorp, secretRemark, "Mnemosyne", secretToken, secretWebhook}

// storedText returns every byte the database holds: the SQLite file and its
// WAL after a checkpoint, or every text column of every MariaDB table.
func storedText(t *testing.T, st *model.Store, driver, dsn string) []byte {
	t.Helper()
	db := st.RawDB()
	if driver == "sqlite" {
		if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		var all []byte
		files, _ := filepath.Glob(dsn + "*")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if len(all) == 0 {
			t.Fatal("no database file")
		}
		return all
	}
	rows, err := db.Query(`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = DATABASE() AND data_type IN ('char', 'varchar', 'text', 'mediumtext', 'longtext', 'blob', 'mediumblob')`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var c [2]string
		if err := rows.Scan(&c[0], &c[1]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 50 {
		t.Fatalf("only %d text columns found", len(cols))
	}
	var all bytes.Buffer
	for _, c := range cols {
		r, err := db.Query(fmt.Sprintf("SELECT `%s` FROM `%s`", c[1], c[0]))
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var v sql.RawBytes
			if err := r.Scan(&v); err != nil {
				t.Fatal(err)
			}
			all.Write(v)
			all.WriteByte('\n')
		}
		r.Close()
	}
	return all.Bytes()
}

// Personal data, access tokens and webhook secrets are not in the stored
// bytes, on either store; they read back in plain and search still finds
// them (mobile through the blind index, names by opening).
func TestPersonalDataIsSealedAtRest(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			dsn := modeltest.DSN(t, driver)
			st := openWith(t, driver, dsn, keyring(t, "k1=first"))
			cid := seedPersonalData(t, st, "wmSealed")
			checkReadable(t, st, cid, 1)
			stored := storedText(t, st, driver, dsn)
			if !bytes.Contains(stored, []byte("wmSealed")) {
				t.Fatal("the dump does not hold the contact's id: it dumps nothing")
			}
			for _, s := range secrets {
				if bytes.Contains(stored, []byte(s)) {
					t.Errorf("%q is stored in plain", s)
				}
			}
			if !bytes.Contains(stored, []byte("v1:k1:")) {
				t.Error("no value sealed under k1 in the dump")
			}
		})
	}
}

// Rows written before encryption (schema 13) are sealed by the migration.
func TestMigrationSealsPlainRows(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			dsn := modeltest.DSN(t, driver)
			st := openWith(t, driver, dsn, keyring(t, "k1=first"))
			cid := seedPersonalData(t, st, "wmPlain")
			db := st.RawDB()
			// Put it back in plain, as version 13 stored it.
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"UPDATE contacts SET name = ?, corp_name = ?, avatar = ?", []any{secretName, secretCorp, secretAvatar}},
				{"UPDATE relations SET remark = ?", []any{secretRemark}},
				{"UPDATE leads SET name = ?, corp_name = ?, mobile = ?, mobile_index = ''", []any{secretName, secretCorp, secretMobile}},
				{"UPDATE wecom_tokens SET value = ?", []any{secretToken}},
				{"UPDATE webhook_endpoints SET secret = ?", []any{secretWebhook}},
				{"DELETE FROM schema_migrations WHERE version = 14", nil},
			} {
				if _, err := db.Exec(q.sql, q.args...); err != nil {
					t.Fatal(err)
				}
			}
			status, err := st.KeyStatus(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if plain := countOf(status, "contacts", "name").Plain; plain != 1 {
				t.Fatalf("plain contacts.name %d", plain)
			}
			if applied, err := st.Migrate(context.Background()); err != nil || len(applied) != 1 || applied[0] != 14 {
				t.Fatalf("migrate %v %v", applied, err)
			}
			checkReadable(t, st, cid, 1)
			for _, s := range secrets {
				if bytes.Contains(storedText(t, st, driver, dsn), []byte(s)) {
					t.Errorf("%q is still stored in plain", s)
				}
			}
		})
	}
}

func countOf(cs []model.KeyCount, table, column string) model.KeyCount {
	for _, c := range cs {
		if c.Table == table && c.Column == column {
			return c
		}
	}
	return model.KeyCount{}
}

func remaining(t *testing.T, st *model.Store) int64 {
	t.Helper()
	cs, err := st.KeyStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range cs {
		n += c.Remaining(st.Keyring().Active())
	}
	return n
}

// A rotation: with a new active key old rows stay readable and findable;
// Rekey re-seals them in batches (a second run finds nothing to do); then
// the old key can go. A keyring without a key in use, or with the wrong
// secret under its id, fails with an error naming the column and the key.
func TestRotationReSealsUnderTheActiveKey(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			dsn := modeltest.DSN(t, driver)
			old := openWith(t, driver, dsn, keyring(t, "k1=first"))
			var cid uint64
			for i := range 7 {
				id := seedPersonalData(t, old, fmt.Sprintf("wmRot%d", i))
				if i == 0 {
					cid = id
				}
			}
			both := openWith(t, driver, dsn, keyring(t, "k2=second", "k1=first"))
			if n := remaining(t, both); n < 7*8 {
				t.Fatalf("remaining before rotation %d", n)
			}
			// The old rows read and search (their index is under k1).
			if leads, err := both.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: secretMobile}); err != nil || len(leads) != 7 {
				t.Fatalf("search before rotation: %d %v", len(leads), err)
			}
			var reports []model.RekeyProgress
			n, err := both.Rekey(ctx, 3, func(p model.RekeyProgress) { reports = append(reports, p) })
			if err != nil || n < 7*3 {
				t.Fatalf("rekey %d %v", n, err)
			}
			if len(reports) < 6 || reports[0].Table != "contacts" || reports[0].Scanned != 3 {
				t.Fatalf("progress %+v", reports)
			}
			if r := remaining(t, both); r != 0 {
				t.Fatalf("remaining after rotation %d", r)
			}
			if n, err := both.Rekey(ctx, 3, nil); err != nil || n != 0 {
				t.Fatalf("second rekey %d %v", n, err)
			}
			onlyNew := openWith(t, driver, dsn, keyring(t, "k2=second"))
			checkReadable(t, onlyNew, cid, 7)
			if err := onlyNew.CheckKeys(ctx); err != nil {
				t.Fatal(err)
			}

			// Missing key: the rows are under k2.
			onlyOld := openWith(t, driver, dsn, keyring(t, "k1=first"))
			_, err = onlyOld.GetContact(ctx, "c1", cid)
			var ke *model.KeyError
			if !errors.As(err, &ke) || ke.KeyID != "k2" || !strings.HasPrefix(ke.Column, "contacts.") || !strings.Contains(err.Error(), `contacts.name: value sealed under data key "k2" cannot be read: that key is not configured`) {
				t.Fatalf("missing key: %v", err)
			}
			if err := onlyOld.CheckKeys(ctx); !errors.As(err, &ke) {
				t.Fatalf("CheckKeys with a missing key: %v", err)
			}
			// Wrong secret under the right id.
			wrong := openWith(t, driver, dsn, keyring(t, "k2=not the second"))
			if _, err := wrong.GetContact(ctx, "c1", cid); !errors.As(err, &ke) || !strings.Contains(err.Error(), "failed authentication") {
				t.Fatalf("wrong key: %v", err)
			}
			if err := wrong.CheckKeys(ctx); !errors.As(err, &ke) {
				t.Fatalf("CheckKeys with a wrong key: %v", err)
			}
		})
	}
}

// An altered ciphertext, or one moved to another column, fails GCM's
// authentication: an error, never garbage.
func TestTamperedValuesFailToOpen(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			dsn := modeltest.DSN(t, driver)
			st := openWith(t, driver, dsn, keyring(t, "k1=first"))
			cid := seedPersonalData(t, st, "wmTamper")
			db := st.RawDB()
			var name, corp string
			if err := db.QueryRow("SELECT name, corp_name FROM contacts WHERE id = ?", cid).Scan(&name, &corp); err != nil {
				t.Fatal(err)
			}
			// Flip one base64 character of the ciphertext.
			i := len(name) - 5
			flipped := name[:i] + string("AB"[map[bool]int{true: 1}[name[i] == 'A']]) + name[i+1:]
			for _, tc := range []struct{ what, name string }{
				{"a flipped byte", flipped},
				{"another column's value", corp},
				{"a truncated value", name[:len(name)-10]},
			} {
				if _, err := db.Exec("UPDATE contacts SET name = ? WHERE id = ?", tc.name, cid); err != nil {
					t.Fatal(err)
				}
				_, err := st.GetContact(ctx, "c1", cid)
				var ke *model.KeyError
				if !errors.As(err, &ke) || !strings.Contains(err.Error(), "contacts.name: value sealed under data key") {
					t.Errorf("%s: %v", tc.what, err)
				}
				if _, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1"}); err == nil {
					t.Errorf("%s: the list read it", tc.what)
				}
			}
		})
	}
}

// Searching sealed names pages by id across the statement chunks, within the
// caller's scope: each page continues after the cursor, matches beyond the
// first chunk are found, another staff member's customer is not, and a
// partial mobile matches by substring.
func TestSearchOverSealedRowsPagesWithinScope(t *testing.T) {
	modeltest.Each(t, func(t *testing.T, st *model.Store) {
		ctx := context.Background()
		if err := st.SeedSearchBench(ctx, 2500); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "c1", UserID: "u2", ExternalUserID: "wmOther", At: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateContactProfile(ctx, "c1", "wmOther", model.ContactProfile{Name: "客户其他"}, "u2", "", "[]"); err != nil {
			t.Fatal(err)
		}
		page1, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", Q: "客户", Limit: 50})
		if err != nil || len(page1) != 50 || page1[0].Name != "客户0000000" || page1[49].Name != "客户0000049" {
			t.Fatalf("page 1: %d %v", len(page1), err)
		}
		page2, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", Q: "客户", Limit: 50, AfterID: page1[49].ID})
		if err != nil || len(page2) != 50 || page2[0].Name != "客户0000050" {
			t.Fatalf("page 2: %d %v", len(page2), err)
		}
		late, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", Q: "客户00021", Limit: 500})
		if err != nil || len(late) != 100 || late[0].Name != "客户0002100" || late[99].Name != "客户0002199" {
			t.Fatalf("matches past the first chunks: %d %v", len(late), err)
		}
		mine, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", UserID: "u2", Follower: "u2", Q: "客户", Limit: 50})
		if err != nil || len(mine) != 1 || mine[0].Name != "客户其他" {
			t.Fatalf("u2's search: %+v %v", mine, err)
		}
		theirs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", UserID: "u1", Follower: "u1", Q: "其他", Limit: 50})
		if err != nil || len(theirs) != 0 {
			t.Fatalf("u1 found u2's customer: %+v %v", theirs, err)
		}

		leads, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "客户00021", Limit: 60})
		if err != nil || len(leads) != 60 || leads[0].Name != "客户0002199" || leads[59].Name != "客户0002140" {
			t.Fatalf("leads page 1: %d %v", len(leads), err)
		}
		more, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "客户00021", Limit: 60, BeforeID: leads[59].ID})
		if err != nil || len(more) != 40 || more[0].Name != "客户0002139" {
			t.Fatalf("leads page 2: %d %v", len(more), err)
		}
		partial, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "1390000204", Limit: 50})
		if err != nil || len(partial) != 10 {
			t.Fatalf("partial mobile: %d %v", len(partial), err)
		}
		exact, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "139 0000 2042", Limit: 50})
		if err != nil || len(exact) != 1 || exact[0].Mobile != "13900002042" {
			t.Fatalf("exact mobile: %+v %v", exact, err)
		}
	})
}
