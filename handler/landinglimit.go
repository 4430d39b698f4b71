package handler

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// landingLimiter caps how many landing pages (/c/, /g/, /s/) one client
// may open: a token bucket per client address, refilled at perMinute and
// holding burst. Each precise-mode page view holds a staff member's cap for
// a few minutes, so a script looping over a page must not be able to hold
// every cap of a code.
type landingLimiter struct {
	perSecond float64
	burst     float64
	now       func() time.Time

	mu      sync.Mutex
	clients map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// landingIdle is how long an idle client's bucket is kept: by then it is
// full again, so forgetting it changes nothing.
const landingIdle = 10 * time.Minute

func newLandingLimiter(perMinute, burst int, now func() time.Time) *landingLimiter {
	return &landingLimiter{perSecond: float64(perMinute) / 60, burst: float64(max(burst, 1)), now: now,
		clients: map[string]*bucket{}}
}

// allow takes a token of client's bucket, or says how long until one is there.
func (l *landingLimiter) allow(client string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > landingIdle {
		for k, b := range l.clients {
			if now.Sub(b.at) > landingIdle {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	b, ok := l.clients[client]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.clients[client] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.perSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second))
}

const tooManyPage = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>访问太频繁</title></head>
<body style="font-family:sans-serif;text-align:center;padding:3em 1em">
<h1>访问太频繁</h1><p>请稍等片刻再打开这个页面。</p></body></html>`

// limitLandings answers 429 with a Chinese page to a client that opened too
// many landing pages; other routes pass untouched.
func limitLandings(l *landingLimiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if !strings.HasPrefix(p, "/c/") && !strings.HasPrefix(p, "/g/") && !strings.HasPrefix(p, "/s/") {
			return
		}
		ok, wait := l.allow(c.ClientIP())
		if ok {
			return
		}
		c.Header("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusTooManyRequests, "text/html; charset=utf-8", []byte(tooManyPage))
		c.Abort()
	}
}
