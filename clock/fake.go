package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a clock for tests, safe for concurrent use. It stands still until
// Set or Advance moves it, or, once started, runs with the wall clock from
// where it was. Waits (After) end when the clock reaches them, however it
// got there.
type Fake struct {
	mu      sync.Mutex
	t       time.Time // the reading when stopped, or at since when running
	since   time.Time // wall-clock time of the last reading while running
	running bool
	waits   []*wait
	wake    *time.Timer // while running: fires at the earliest wait
}

type wait struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a stopped clock reading t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the clock's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.nowLocked()
}

func (f *Fake) nowLocked() time.Time {
	if f.running {
		return f.t.Add(time.Since(f.since))
	}
	return f.t
}

// Set moves the clock to t (it keeps running if it was).
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.t, f.since = t, time.Now()
	f.fireLocked()
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.t, f.since = f.nowLocked().Add(d), time.Now()
	f.fireLocked()
	f.mu.Unlock()
}

// Start lets the clock run with the wall clock from its current reading.
func (f *Fake) Start() {
	f.mu.Lock()
	if !f.running {
		f.running, f.since = true, time.Now()
		f.fireLocked()
	}
	f.mu.Unlock()
}

// Stop holds the clock at its current reading.
func (f *Fake) Stop() {
	f.mu.Lock()
	if f.running {
		f.t, f.running = f.nowLocked(), false
		if f.wake != nil {
			f.wake.Stop()
			f.wake = nil
		}
	}
	f.mu.Unlock()
}

// After sends the clock's time once the clock has moved d on.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &wait{at: f.nowLocked().Add(d), ch: make(chan time.Time, 1)}
	f.waits = append(f.waits, w)
	f.fireLocked()
	return w.ch
}

// Waiting returns how many waits have not ended yet, so a test can move the
// clock once the code under test is waiting on it.
func (f *Fake) Waiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waits)
}

// fireLocked ends every wait the clock has reached and, while running, arms
// a wall-clock timer for the next one.
func (f *Fake) fireLocked() {
	now := f.nowLocked()
	sort.Slice(f.waits, func(i, j int) bool { return f.waits[i].at.Before(f.waits[j].at) })
	n := 0
	for n < len(f.waits) && !f.waits[n].at.After(now) {
		f.waits[n].ch <- now
		n++
	}
	f.waits = f.waits[n:]
	if f.wake != nil {
		f.wake.Stop()
		f.wake = nil
	}
	if f.running && len(f.waits) > 0 {
		f.wake = time.AfterFunc(f.waits[0].at.Sub(now), func() {
			f.mu.Lock()
			f.fireLocked()
			f.mu.Unlock()
		})
	}
}
