package model

import (
	"context"
	"database/sql"
	"fmt"
)

// HasIndex reports whether table has an index named name (tests only).
func (s *Store) HasIndex(table, name string) bool {
	return s.db.Migrator().HasIndex(table, name)
}

// HasColumn reports whether table has column name (tests only).
func (s *Store) HasColumn(table, name string) bool {
	return s.db.Migrator().HasColumn(table, name)
}

// RawDB is the store's database/sql handle (tests only: reading and
// altering stored bytes).
func (s *Store) RawDB() *sql.DB {
	db, err := s.db.DB()
	if err != nil {
		panic(err)
	}
	return db
}

// SeedSearchBench stores n contacts of corp c1, each followed by u1 and with
// a lead holding a mobile 139xxxxxxxx (i in the last digits); tests only.
func (s *Store) SeedSearchBench(ctx context.Context, n int) error {
	now := s.Now()
	for start := 0; start < n; start += 500 {
		end := min(start+500, n)
		cs := make([]Contact, 0, end-start)
		for i := start; i < end; i++ {
			cs = append(cs, Contact{CorpID: "c1", ExternalUserID: fmt.Sprintf("wmBench%07d", i), Name: fmt.Sprintf("客户%07d", i),
				CorpName: fmt.Sprintf("公司%d", i%997), Avatar: fmt.Sprintf("https://wework.qpic.cn/wwpic/%07d/0", i), FirstSeenAt: now, UpdatedAt: now})
		}
		db := s.db.WithContext(ctx)
		if err := db.Create(&cs).Error; err != nil {
			return err
		}
		rels := make([]Relation, 0, len(cs))
		leads := make([]Lead, 0, len(cs))
		for i, c := range cs {
			rels = append(rels, Relation{CorpID: "c1", UserID: "u1", ExternalUserID: c.ExternalUserID, ContactID: c.ID, Remark: "备注",
				Tags: "[]", Status: RelationActive, AddedAt: now, UpdatedAt: now})
			leads = append(leads, Lead{CorpID: "c1", ContactID: c.ID, ExternalUserID: c.ExternalUserID, Name: c.Name, CorpName: c.CorpName,
				Mobile: fmt.Sprintf("139%08d", start+i), MobileValid: true, Stage: "new", Tags: "[]", StageChangedAt: now,
				LastActivityAt: now, CreatedAt: now, UpdatedAt: now})
		}
		if err := db.Create(&rels).Error; err != nil {
			return err
		}
		if err := db.Create(&leads).Error; err != nil {
			return err
		}
	}
	return nil
}
