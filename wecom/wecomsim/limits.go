package wecomsim

import (
	"crypto/rand"
	"encoding/base64"
	"math"
	rnd "math/rand/v2"
	"strings"
	"sync"
	"time"
)

// tokenStore issues access tokens and remembers why old ones stopped working,
// so that a stale token gets 42001 (expired or revoked) rather than 40014.
type tokenStore struct {
	mu      sync.Mutex
	current map[string]string // corp -> token
	tokens  map[string]*tokenInfo
}

type tokenInfo struct {
	corp    string
	expires time.Time
	revoked int // errcode a revoked token answers with; 0 while valid
}

func newTokenStore() *tokenStore {
	return &tokenStore{current: map[string]string{}, tokens: map[string]*tokenInfo{}}
}

func (t *tokenStore) issue(corp string, now time.Time, ttl time.Duration) (string, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok, ok := t.current[corp]; ok {
		if ti := t.tokens[tok]; ti.revoked == 0 && now.Before(ti.expires) {
			return tok, ti.expires
		}
	}
	// Tokens are credentials, so they come from crypto/rand even though the
	// rest of the simulator is seeded; nothing depends on their value.
	var b [96]byte
	rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	t.current[corp] = tok
	t.tokens[tok] = &tokenInfo{corp: corp, expires: now.Add(ttl)}
	return tok, now.Add(ttl)
}

func (t *tokenStore) check(tok string, now time.Time) (string, *apiError) {
	if tok == "" {
		return "", apiErr(CodeMissingToken, "")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ti := t.tokens[tok]
	switch {
	case ti == nil:
		return "", apiErr(CodeInvalidToken, "")
	case ti.revoked != 0:
		return "", apiErr(ti.revoked, "")
	case !now.Before(ti.expires):
		return "", apiErr(CodeTokenExpired, "")
	}
	return ti.corp, nil
}

// invalidateAll revokes every token; later calls with them answer code.
func (t *tokenStore) invalidateAll(code int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, ti := range t.tokens {
		if ti.revoked == 0 {
			ti.revoked = code
			n++
		}
	}
	clear(t.current)
	return n
}

// limiter counts calls per corp per API in fixed minute and hour windows of
// the simulated clock, like WeCom's 10,000/min and 150,000/h.
type limiter struct {
	mu        sync.Mutex
	perMinute int
	perHour   int
	counts    map[string]*window
}

type window struct {
	minute, hour     int64
	inMinute, inHour int
}

func newLimiter(perMinute, perHour int) *limiter {
	return &limiter{perMinute: perMinute, perHour: perHour, counts: map[string]*window{}}
}

func (l *limiter) allow(corp, api string, now time.Time) bool {
	minute := now.Unix() / 60
	hour := now.Unix() / 3600
	key := corp + "\x00" + api
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.counts[key]
	if w == nil {
		w = &window{}
		l.counts[key] = w
	}
	if w.minute != minute {
		w.minute, w.inMinute = minute, 0
	}
	if w.hour != hour {
		w.hour, w.inHour = hour, 0
	}
	w.inMinute++
	w.inHour++
	return w.inMinute <= l.perMinute && w.inHour <= l.perHour
}

// faultStore holds injected faults.
type faultStore struct {
	mu     sync.Mutex
	faults []*Fault
	nextID int
	rnd    *rnd.Rand
}

type firedFault struct {
	latency    time.Duration
	httpStatus int
	errCode    int
	errMsg     string
}

func newFaultStore(seed uint64) *faultStore {
	return &faultStore{rnd: rnd.New(rnd.NewPCG(seed, 0xfa17))}
}

// apiMatches reports whether a fault or log filter pattern names an API:
// "*", the full path after /cgi-bin/, or its trailing segments.
func apiMatches(pattern, api string) bool {
	return pattern == "" || pattern == "*" || pattern == api || strings.HasSuffix(api, "/"+pattern)
}

func isTokenFault(f *Fault) bool {
	return f.ErrCode == CodeTokenExpired || f.ErrCode == CodeInvalidToken || f.ErrCode == CodeMissingToken
}

// fire returns what the faults matching api do to this call, or nil.
func (fs *faultStore) fire(api string) *firedFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.faults) == 0 {
		return nil
	}
	var out *firedFault
	kept := fs.faults[:0]
	for _, f := range fs.faults {
		keep := true
		// gettoken takes no token, so a token fault cannot apply to it.
		if apiMatches(f.API, api) && !(api == "gettoken" && isTokenFault(f)) &&
			(f.Probability <= 0 || fs.rnd.Float64() < f.Probability) {
			if out == nil {
				out = &firedFault{}
			}
			out.latency += time.Duration(f.LatencyMS) * time.Millisecond
			if out.httpStatus == 0 && out.errCode == 0 {
				out.httpStatus, out.errCode, out.errMsg = f.HTTPStatus, f.ErrCode, f.ErrMsg
			}
			f.Fired++
			if f.Count > 0 && f.Fired >= f.Count {
				keep = false
			}
		}
		if keep {
			kept = append(kept, f)
		}
	}
	clear(fs.faults[len(kept):])
	fs.faults = kept
	return out
}

func (fs *faultStore) add(f Fault) Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.nextID++
	f.ID, f.Fired = fs.nextID, 0
	c := f
	fs.faults = append(fs.faults, &c)
	return f
}

func (fs *faultStore) list() []Fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]Fault, 0, len(fs.faults))
	for _, f := range fs.faults {
		out = append(out, *f)
	}
	return out
}

func (fs *faultStore) clear() {
	fs.mu.Lock()
	fs.faults = nil
	fs.mu.Unlock()
}

func validateFault(f Fault) string {
	switch {
	case f.API == "":
		return "api is required (an API name or \"*\")"
	case f.ErrCode == 0 && f.HTTPStatus == 0 && f.LatencyMS <= 0:
		return "set errcode, http_status or latency_ms"
	case f.HTTPStatus != 0 && (f.HTTPStatus < 400 || f.HTTPStatus > 599):
		return "http_status must be 4xx or 5xx"
	case f.Probability < 0 || f.Probability > 1 || math.IsNaN(f.Probability):
		return "probability must be within [0,1]"
	case f.Count < 0:
		return "count must not be negative"
	case f.LatencyMS < 0 || f.LatencyMS > 600000:
		return "latency_ms must be within [0,600000]"
	}
	return ""
}
