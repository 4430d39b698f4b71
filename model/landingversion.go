package model

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// GroupLandingVersion fingerprints what /g/ pages show: the group codes
// (count, latest change) and their pools (the groups, their names, counts,
// positions and dismissals, summed with weights so that changes to two
// groups do not cancel out). It moves with every change a replica makes.
func (s *Store) GroupLandingVersion(ctx context.Context) (string, error) {
	return s.fingerprint(ctx, `SELECT
  (SELECT COUNT(*) FROM group_codes), (SELECT CAST(MAX(updated_at) AS CHAR) FROM group_codes),
  (SELECT COUNT(*) FROM group_code_chats),
  (SELECT SUM(members * (id + 1) + customers * (id + 7) + position * (id + 13) + CASE WHEN dismissed THEN id ELSE 0 END
    + LENGTH(name) * (id + 17)) FROM group_code_chats)`)
}

// StoreLandingVersion fingerprints what /s/ pages show: store codes, their
// ways and the stores (count and latest change of each).
func (s *Store) StoreLandingVersion(ctx context.Context) (string, error) {
	return s.fingerprint(ctx, `SELECT
  (SELECT COUNT(*) FROM store_codes), (SELECT CAST(MAX(updated_at) AS CHAR) FROM store_codes),
  (SELECT COUNT(*) FROM store_code_ways), (SELECT CAST(MAX(updated_at) AS CHAR) FROM store_code_ways),
  (SELECT COUNT(*) FROM stores), (SELECT CAST(MAX(updated_at) AS CHAR) FROM stores)`)
}

// fingerprint reads one row of q and joins its columns.
func (s *Store) fingerprint(ctx context.Context, q string) (string, error) {
	rows, err := s.db.WithContext(ctx).Raw(q).Rows()
	if err != nil {
		return "", fmt.Errorf("store: unable to read a version: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", fmt.Errorf("store: unable to read a version: %w", err)
		}
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = v.String
	}
	return strings.Join(parts, "/"), rows.Err()
}
