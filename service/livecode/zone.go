package livecode

import (
	"sync"
	"time"
)

// zones keeps every time zone loaded once: time.LoadLocation reads and
// parses the zone's file on each call, which a landing page's count of the
// day (Roster.LocalDay) paid on every request. Only names that load are
// kept, so the map is bounded by the IANA database, whatever callers send.
var zones sync.Map // name → *time.Location

// LoadZone is time.LoadLocation with the result kept for the process.
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
