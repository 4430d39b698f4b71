package wecomsim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// Staff is a member of the simulated corp who can own contact ways and groups.
type Staff struct {
	UserID string `json:"userid"`
	Name   string `json:"name"`
	// Departments are the ids of the member's departments (default: 1,
	// the corp itself); user/list and department/list report them.
	Departments []int  `json:"department,omitempty"`
	Avatar      string `json:"avatar,omitempty"`
}

// Department is one department of the corp's address book.
type Department struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	ParentID int    `json:"parentid"`
	Order    int    `json:"order"`
}

// defaultDepartments is the address book a Sim starts with.
func defaultDepartments() []Department {
	return []Department{{ID: 1, Name: "演示企业", ParentID: 0, Order: 100000000}, {ID: 2, Name: "销售部", ParentID: 1, Order: 99999000},
		{ID: 3, Name: "市场部", ParentID: 1, Order: 99998000}}
}

// Options configure a Sim. Zero values take WeCom's defaults.
type Options struct {
	// Callback crypto and gettoken credentials. Empty values are generated
	// from Seed; Config reports what was used.
	CorpID, Secret, Token, EncodingAESKey string
	// CallbackURL is the gateway's callback URL; may be set later. Several,
	// comma-separated, are several replicas behind WeCom's load balancer:
	// each delivery attempt goes to the next in turn.
	CallbackURL         string
	Seed                int64 // deterministic ids and random staff picks
	Now                 func() time.Time
	RateLimitPerMinute  int           // per corp per API; default 10000
	RateLimitPerHour    int           // per corp per API; default 150000
	TokenTTL            time.Duration // default 7200s
	WelcomeWindow       time.Duration // default 20s
	CallbackTimeout     time.Duration // default 5s
	CallbackRetries     int           // default 3 (so up to 4 deliveries); negative means none
	RetryDelay          time.Duration // pause between resends, default 1s
	CallbackConcurrency int           // callbacks in flight at once, default 256
	Staff               []Staff       // default: zhangsan, lisi, wangwu, zhaoliu, sunqi
	GroupCapacity       int           // members per group chat, default 200
	ContactWayQuota     int           // API-made contact ways per corp, default 500000
	LogLimit            int           // log entries and events kept, default 100000
	HTTPClient          *http.Client  // for callbacks
	Logger              *slog.Logger
}

// defaultStaff is the roster a Sim starts with when Options.Staff is empty.
func defaultStaff() []Staff {
	return []Staff{
		{UserID: "zhangsan", Name: "张三", Departments: []int{2}},
		{UserID: "lisi", Name: "李四", Departments: []int{2}},
		{UserID: "wangwu", Name: "王五", Departments: []int{2, 3}},
		{UserID: "zhaoliu", Name: "赵六", Departments: []int{3}},
		{UserID: "sunqi", Name: "孙七", Departments: []int{3}},
	}
}

// Sim is one simulated WeCom corp. It is safe for concurrent use.
type Sim struct {
	opts    Options
	crypter *wecom.Crypter
	log     *slog.Logger
	hc      *http.Client
	offset  atomic.Int64 // nanoseconds added to opts.Now by /sim/clock
	slowed  sync.Map     // API name -> *atomic.Int64: calls held by a latency fault now

	callbackMu  sync.RWMutex
	nextTarget  atomic.Uint64 // the round of several callback URLs
	callbackURL string

	mu    sync.Mutex // guards the corp's state below
	ids   *rand.Rand
	picks *rand.Rand
	st    *corpState

	tokens  *tokenStore
	limiter *limiter
	faults  *faultStore
	journal *journal

	ctx       context.Context
	cancel    context.CancelFunc
	closeMu   sync.RWMutex
	closed    bool
	closeOnce sync.Once
	wg        sync.WaitGroup
	sem       chan struct{}
	queueMu   sync.Mutex
	queues    map[string][]*delivery // per order key; present while a drain runs

	mux *http.ServeMux
}

// New builds a Sim. It fails only on unusable credentials.
func New(opts Options) (*Sim, error) {
	opts = withDefaults(opts)
	cr, err := wecom.NewCrypter(opts.Token, opts.EncodingAESKey, opts.CorpID)
	if err != nil {
		return nil, fmt.Errorf("wecomsim: callback crypto: %w", err)
	}
	seed := uint64(opts.Seed)
	s := &Sim{
		opts:        opts,
		crypter:     cr,
		log:         opts.Logger,
		hc:          opts.HTTPClient,
		callbackURL: opts.CallbackURL,
		// Separate streams so that ids drawn for one feature never shift the
		// staff picks of another: two sims with one seed pick alike.
		ids:     rand.New(rand.NewPCG(seed, 0x1d5)),
		picks:   rand.New(rand.NewPCG(seed, 0x91c)),
		tokens:  newTokenStore(),
		limiter: newLimiter(opts.RateLimitPerMinute, opts.RateLimitPerHour),
		faults:  newFaultStore(seed),
		journal: newJournal(opts.LogLimit, seed),
		sem:     make(chan struct{}, opts.CallbackConcurrency),
		queues:  map[string][]*delivery{},
	}
	s.st = newCorpState(opts)
	if s.hc == nil {
		s.hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConns:        opts.CallbackConcurrency,
			MaxIdleConnsPerHost: opts.CallbackConcurrency,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.mux = s.routes()
	return s, nil
}

func withDefaults(o Options) Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RateLimitPerMinute <= 0 {
		o.RateLimitPerMinute = 10000
	}
	if o.RateLimitPerHour <= 0 {
		o.RateLimitPerHour = 150000
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 7200 * time.Second
	}
	if o.WelcomeWindow <= 0 {
		o.WelcomeWindow = 20 * time.Second
	}
	if o.CallbackTimeout <= 0 {
		o.CallbackTimeout = 5 * time.Second
	}
	if o.CallbackRetries == 0 {
		o.CallbackRetries = 3
	} else if o.CallbackRetries < 0 {
		o.CallbackRetries = 0
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	if o.CallbackConcurrency <= 0 {
		o.CallbackConcurrency = 256
	}
	if len(o.Staff) == 0 {
		o.Staff = defaultStaff()
	} else {
		o.Staff = append([]Staff(nil), o.Staff...)
	}
	if o.GroupCapacity <= 0 {
		o.GroupCapacity = 200
	}
	if o.ContactWayQuota <= 0 {
		o.ContactWayQuota = 500000
	}
	if o.LogLimit <= 0 {
		o.LogLimit = 100000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cred := seededCredentials(o.Seed)
	if o.CorpID == "" {
		o.CorpID = cred.CorpID
	}
	if o.Secret == "" {
		o.Secret = cred.Secret
	}
	if o.Token == "" {
		o.Token = cred.Token
	}
	if o.EncodingAESKey == "" {
		o.EncodingAESKey = cred.EncodingAESKey
	}
	return o
}

// seededCredentials derives test credentials from a seed so that tests which
// leave them empty are still reproducible.
func seededCredentials(seed int64) Options {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	h := func(label string) []byte {
		sum := sha256.Sum256(append([]byte(label), b[:]...))
		return sum[:]
	}
	return Options{
		CorpID:         "ww" + fmt.Sprintf("%x", h("corp"))[:16],
		Secret:         base64.RawURLEncoding.EncodeToString(h("secret"))[:43],
		Token:          base64.RawURLEncoding.EncodeToString(h("token"))[:32],
		EncodingAESKey: base64.RawStdEncoding.EncodeToString(h("aeskey")),
	}
}

// Config returns the options in effect, defaults and generated credentials
// included, so that a caller can configure the gateway to match.
func (s *Sim) Config() Options {
	o := s.opts
	o.Staff = append([]Staff(nil), o.Staff...)
	o.CallbackURL = s.CallbackURL()
	return o
}

// Handler serves /cgi-bin/... (the WeCom API) and /sim/... (the control API).
// Mount it under another mux at those two prefixes, without stripping them.
func (s *Sim) Handler() http.Handler { return s.mux }

// SetCallbackURL points callbacks at the gateway. Events already queued are
// delivered to the URL current at their first attempt.
func (s *Sim) SetCallbackURL(url string) {
	s.callbackMu.Lock()
	s.callbackURL = url
	s.callbackMu.Unlock()
}

// callbackTarget is the URL of one delivery attempt: the callback URL, or
// with several the next of them in turn.
func (s *Sim) callbackTarget() string {
	u := s.CallbackURL()
	if !strings.Contains(u, ",") {
		return u
	}
	urls := strings.Split(u, ",")
	return strings.TrimSpace(urls[(s.nextTarget.Add(1)-1)%uint64(len(urls))])
}

// CallbackURL reports where callbacks go; empty means they are dropped.
func (s *Sim) CallbackURL() string {
	s.callbackMu.RLock()
	defer s.callbackMu.RUnlock()
	return s.callbackURL
}

// Close stops callback deliveries (pending resends are abandoned) and waits
// for their goroutines to finish. The handler keeps answering API calls.
func (s *Sim) Close() {
	s.closeOnce.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		s.cancel()
		s.wg.Wait()
	})
}

// now is the simulated clock: the injected clock plus any /sim/clock advance.
func (s *Sim) now() time.Time {
	return s.opts.Now().Add(time.Duration(s.offset.Load()))
}

// Advance moves the simulated clock forward (or back, for a negative d).
func (s *Sim) Advance(d time.Duration) time.Time {
	s.offset.Add(int64(d))
	return s.now()
}

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID draws an id from the seeded stream; callers hold s.mu.
func (s *Sim) newID(prefix string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[s.ids.IntN(len(idAlphabet))]
	}
	return prefix + string(b)
}

// newHexID draws a lowercase hex id (config ids look like this); callers hold s.mu.
func (s *Sim) newHexID(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[s.ids.IntN(16)]
	}
	return string(b)
}

var errClosed = errors.New("wecomsim: closed")
