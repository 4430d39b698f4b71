package wecomsim

import (
	"net/http"
	"testing"
)

// BenchmarkScan measures a scan end to end over HTTP: the control call, the
// staff pick, and the encrypted callback to a receiver.
func BenchmarkScan(b *testing.B) {
	e := newEnv(b, Options{LogLimit: 1000})
	e.withReceiver(nil)
	id := e.addWay(map[string]any{"type": 2, "scene": 2, "state": "c:bench",
		"user": []string{"zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi"}})
	ctl := NewControl(e.srv.URL, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}})
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ctl.Scan(ctx(), ScanRequest{ConfigID: id}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	waitFor(b, func() bool { return e.sim.PendingCallbacks() == 0 })
}
