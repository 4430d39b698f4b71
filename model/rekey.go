package model

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// sealedTable names a table's sealed columns and the key to page it by.
type sealedTable struct {
	Table   string
	Key     string // primary key column
	TextKey bool   // the key is a string (else an integer)
	Columns []string
}

// sealedTables is every sealed column ("serializer:sealed" in the models).
var sealedTables = []sealedTable{
	{Table: "contacts", Key: "id", Columns: []string{"name", "avatar", "corp_name"}},
	{Table: "relations", Key: "id", Columns: []string{"remark"}},
	{Table: "leads", Key: "id", Columns: []string{"name", "corp_name", "mobile"}},
	{Table: "wecom_tokens", Key: "key", TextKey: true, Columns: []string{"value"}},
	{Table: "webhook_endpoints", Key: "id", Columns: []string{"secret", "previous_secret"}},
	{Table: "webhook_messages", Key: "id", Columns: []string{"body"}},
}

// RekeyProgress is reported after each batch of Rekey.
type RekeyProgress struct {
	Table string
	// Scanned and Resealed count this table's rows so far.
	Scanned, Resealed int
}

// Rekey seals under the active key every value stored under another key or
// in plain, batch rows per statement, table by table, calling progress
// after each batch. It takes no lock beyond one row's update and writes a
// row only if it still holds what was read, so it runs beside serving
// replicas (which must already seal under the same active key) and can be
// stopped and run again at any time: rows done are skipped. It returns how
// many rows it re-sealed.
func (s *Store) Rekey(ctx context.Context, batch int, progress func(RekeyProgress)) (int, error) {
	return rekey(s.db.WithContext(ctx), s.keys, batch, progress)
}

func rekey(db *gorm.DB, kr *Keyring, batch int, progress func(RekeyProgress)) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	total := 0
	for _, t := range sealedTables {
		n, err := rekeyTable(db, kr, t, batch, progress)
		total += n
		if err != nil {
			return total, fmt.Errorf("store: re-seal %s: %w", t.Table, err)
		}
	}
	return total, nil
}

type sealedRow struct {
	key  any
	vals []string
}

func rekeyTable(db *gorm.DB, kr *Keyring, t sealedTable, batch int, progress func(RekeyProgress)) (int, error) {
	cols := "`" + strings.Join(t.Columns, "`, `") + "`"
	query := fmt.Sprintf("SELECT `%s`, %s FROM `%s` WHERE `%s` > ? ORDER BY `%s` LIMIT ?", t.Key, cols, t.Table, t.Key, t.Key)
	var after any = uint64(0)
	if t.TextKey {
		after = ""
	}
	p := RekeyProgress{Table: t.Table}
	for {
		rows, err := readSealedRows(db, query, t, after, batch)
		if err != nil {
			return p.Resealed, err
		}
		for _, r := range rows {
			set := map[string]any{}
			q := db.Session(&gorm.Session{NewDB: true}).Table(t.Table).Where("`"+t.Key+"` = ?", r.key)
			for i, col := range t.Columns {
				v := r.vals[i]
				if v == "" || sealedUnder(v) == kr.active {
					continue
				}
				column := t.Table + "." + col
				plain, err := kr.open(column, v)
				if err != nil {
					return p.Resealed, err
				}
				set[col] = kr.seal(column, plain)
				if column == "leads.mobile" {
					set["mobile_index"] = kr.blindIndex(kr.active, plain)
				}
				q = q.Where("`"+col+"` = ?", v)
			}
			if len(set) == 0 {
				continue
			}
			// A row changed since it was read was written under the
			// active key: nothing to do.
			res := q.Updates(set)
			if res.Error != nil {
				return p.Resealed, res.Error
			}
			p.Resealed += int(res.RowsAffected)
		}
		p.Scanned += len(rows)
		if progress != nil {
			progress(p)
		}
		if len(rows) < batch {
			return p.Resealed, nil
		}
		after = rows[len(rows)-1].key
	}
}

func readSealedRows(db *gorm.DB, query string, t sealedTable, after any, batch int) ([]sealedRow, error) {
	rows, err := db.Session(&gorm.Session{NewDB: true}).Raw(query, after, batch).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sealedRow
	for rows.Next() {
		var (
			intKey  uint64
			textKey string
			vals    = make([]sql.NullString, len(t.Columns))
			dest    = make([]any, 0, len(t.Columns)+1)
		)
		if t.TextKey {
			dest = append(dest, &textKey)
		} else {
			dest = append(dest, &intKey)
		}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r := sealedRow{key: intKey, vals: make([]string, len(vals))}
		if t.TextKey {
			r.key = textKey
		}
		for i, v := range vals {
			r.vals[i] = v.String
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// KeyCount says under which keys one sealed column's values are.
type KeyCount struct {
	Table, Column string
	// Values is the non-empty values; Plain those stored before
	// encryption; ByKey those under each configured key; Unknown those
	// under a key the keyring does not hold.
	Values, Plain, Unknown int64
	ByKey                  map[string]int64
}

// Remaining is the values a rotation to the active key still has to seal.
func (c KeyCount) Remaining(active string) int64 { return c.Values - c.ByKey[active] }

// KeyStatus counts, for every sealed column, the values under each key.
func (s *Store) KeyStatus(ctx context.Context) ([]KeyCount, error) {
	db := s.db.WithContext(ctx)
	ids := s.keys.IDs()
	var out []KeyCount
	for _, t := range sealedTables {
		for _, col := range t.Columns {
			sel := []string{"COUNT(*)", fmt.Sprintf("COALESCE(SUM(CASE WHEN `%s` LIKE 'v1:%%' THEN 0 ELSE 1 END), 0)", col)}
			args := []any{}
			for _, id := range ids {
				sel = append(sel, fmt.Sprintf("COALESCE(SUM(CASE WHEN `%s` LIKE ? THEN 1 ELSE 0 END), 0)", col))
				args = append(args, sealedPrefix+id+":%")
			}
			q := fmt.Sprintf("SELECT %s FROM `%s` WHERE `%s` <> ''", strings.Join(sel, ", "), t.Table, col)
			n := make([]int64, 2+len(ids))
			dest := make([]any, len(n))
			for i := range n {
				dest[i] = &n[i]
			}
			if err := db.Raw(q, args...).Row().Scan(dest...); err != nil {
				return nil, fmt.Errorf("store: count sealed %s.%s: %w", t.Table, col, err)
			}
			c := KeyCount{Table: t.Table, Column: col, Values: n[0], Plain: n[1], ByKey: map[string]int64{}}
			known := c.Plain
			for i, id := range ids {
				c.ByKey[id] = n[2+i]
				known += n[2+i]
			}
			c.Unknown = c.Values - known
			out = append(out, c)
		}
	}
	return out, nil
}

// CheckKeys opens the newest value of every sealed column: a keyring that
// lacks a key in use, or holds the wrong secret under its id, fails here
// (at start) rather than on a customer's page.
func (s *Store) CheckKeys(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	for _, t := range sealedTables {
		for _, col := range t.Columns {
			var v sql.NullString
			q := fmt.Sprintf("SELECT `%s` FROM `%s` WHERE `%s` LIKE 'v1:%%' ORDER BY `%s` DESC LIMIT 1", col, t.Table, col, t.Key)
			err := db.Raw(q).Row().Scan(&v)
			if err == sql.ErrNoRows {
				continue
			}
			if err != nil {
				return fmt.Errorf("store: check data keys on %s.%s: %w", t.Table, col, err)
			}
			if _, err := s.keys.open(t.Table+"."+col, v.String); err != nil {
				return err
			}
		}
	}
	return nil
}
