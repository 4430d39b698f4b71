package model

// HasIndex reports whether table has an index named name (tests only).
func (s *Store) HasIndex(table, name string) bool {
	return s.db.Migrator().HasIndex(table, name)
}
