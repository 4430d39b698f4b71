package handler_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// A landing page served again sends nothing to the database: /g/ and /s/
// come from memory (the page rendered once), /s/.../nearest reads nothing
// (its scan count is written at most once a second). A change another
// replica makes to the pool shows once the version poll sees it.
func TestLandingPagesAreServedFromMemory(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := modeltest.Open(t, driver, nil)
			f := landingFixture(t, st)
			get := func(path string) string {
				t.Helper()
				resp, err := http.Get(f.srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
				}
				return string(b)
			}
			group, store, nearest := "/g/"+f.group, "/s/"+f.store, "/s/"+f.store+"/nearest?lat=31.2304&lng=121.4737"
			first := map[string]string{}
			for _, p := range []string{group, store, nearest} {
				first[p] = get(p)
			}
			if !strings.Contains(first[group], "展会0群") {
				t.Fatalf("group page does not show the first group: %s", first[group])
			}

			before := st.Statements()
			for range 3 {
				for _, p := range []string{group, store} {
					if got := get(p); got != first[p] {
						t.Fatalf("%s changed between two hits with nothing changed", p)
					}
				}
			}
			after := st.Statements()
			var sent int64
			for op, n := range after.Statements {
				sent += n - before.Statements[op]
			}
			if sent != 0 || after.Transactions != before.Transactions {
				t.Fatalf("cached /g/ and /s/ hits sent %d statements, %d transactions; want none", sent, after.Transactions-before.Transactions)
			}
			before = st.Statements()
			get(nearest)
			if n := st.Statements().Statements["select"] - before.Statements["select"]; n != 0 {
				t.Fatalf("a cached nearest-store lookup sent %d selects", n)
			}

			// Another replica fills the first group: the page moves on to
			// the next once the poll has seen it.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go f.groups.RunLandingPoll(ctx, 20*time.Millisecond)
			if err := st.SetGroupChatCounts(ctx, corpID, "wr0", model.ChatCounts{Name: "展会0群", Members: 201, Customers: 200}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(get(group), "展会1群") {
				if time.Now().After(deadline) {
					t.Fatal("the group page still shows the full group 10 s after another replica filled it")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
