package handler

import (
	"math"
	"strconv"
	"sync"
	"time"
)

// Failed-authentication throttle defaults: a client that presents this many
// invalid tokens within the window is answered 429 until the window ends,
// without its tokens being looked up. A guess at a 256-bit token is hopeless
// anyway; the throttle keeps scanners from costing a database read each.
const (
	authFailLimit  = 20
	authFailWindow = 5 * time.Minute
	// authFailClients bounds the clients tracked; beyond it expired entries
	// are swept, and a still-full table tracks no new client until one expires.
	authFailClients = 100_000
)

// authThrottle counts failed authentications per client address in fixed
// windows.
type authThrottle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	clients map[string]*authFailures
}

type authFailures struct {
	start time.Time
	n     int
}

func newAuthThrottle(now func() time.Time) *authThrottle {
	return &authThrottle{limit: authFailLimit, window: authFailWindow, now: now, clients: map[string]*authFailures{}}
}

// blocked reports whether client must wait, and for how many seconds.
func (t *authThrottle) blocked(client string) (bool, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.clients[client]
	if f == nil || f.n < t.limit {
		return false, ""
	}
	left := f.start.Add(t.window).Sub(t.now())
	if left <= 0 {
		delete(t.clients, client)
		return false, ""
	}
	return true, strconv.Itoa(int(math.Ceil(left.Seconds())))
}

// failed records a failed authentication by client.
func (t *authThrottle) failed(client string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.clients[client]
	if f == nil || now.Sub(f.start) >= t.window {
		if f == nil && len(t.clients) >= authFailClients {
			for k, v := range t.clients {
				if now.Sub(v.start) >= t.window {
					delete(t.clients, k)
				}
			}
			if len(t.clients) >= authFailClients {
				return
			}
		}
		f = &authFailures{start: now}
		t.clients[client] = f
	}
	f.n++
}
