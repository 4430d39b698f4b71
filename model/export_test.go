package model

import "database/sql"

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
