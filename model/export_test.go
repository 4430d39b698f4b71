package model

// HasIndex reports whether table has an index named name (tests only).
func (s *Store) HasIndex(table, name string) bool {
	return s.db.Migrator().HasIndex(table, name)
}

// HasColumn reports whether table has column name (tests only).
func (s *Store) HasColumn(table, name string) bool {
	return s.db.Migrator().HasColumn(table, name)
}
