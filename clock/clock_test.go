package clock

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The gateway reads the time only through a Clock: service, model, handler
// and wecom never call time.Now, time.Since or time.Until (the simulator in
// wecom/wecomsim stands in for WeCom and runs on its own injected clock).
func TestOnlyTheClockReadsTheWallClock(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, dir := range []string{"../service", "../model", "../handler", "../wecom"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "wecomsim" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			checked++
			timePkg := ""
			for _, im := range f.Imports {
				if im.Path.Value == `"time"` {
					timePkg = "time"
					if im.Name != nil {
						timePkg = im.Name.Name
					}
				}
			}
			if timePkg == "" {
				return nil
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == timePkg {
					switch sel.Sel.Name {
					case "Now", "Since", "Until":
						t.Errorf("%s: time.%s: read the injected clock instead", fset.Position(sel.Pos()), sel.Sel.Name)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: wrong directories?", checked)
	}
}

func TestFakeStandsStillUntilMoved(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	f := NewFake(t0)
	w := f.After(10 * time.Second)
	f.Advance(9 * time.Second)
	select {
	case <-w:
		t.Fatal("wait ended a second early")
	default:
	}
	if f.Waiting() != 1 {
		t.Fatalf("waiting = %d", f.Waiting())
	}
	f.Advance(time.Second)
	if got := <-w; !got.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("wait ended at %v", got)
	}
	if !f.Now().Equal(t0.Add(10*time.Second)) || f.Waiting() != 0 {
		t.Fatalf("now %v, waiting %d", f.Now(), f.Waiting())
	}
	f.Set(t0)
	if !f.Now().Equal(t0) {
		t.Fatalf("set: %v", f.Now())
	}
}

func TestFakeRunsWhenStarted(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	f := NewFake(t0)
	f.Start()
	<-f.After(20 * time.Millisecond) // ends on its own: the clock runs
	f.Stop()
	stopped := f.Now()
	if stopped.Before(t0.Add(20 * time.Millisecond)) {
		t.Fatalf("ran to %v", stopped)
	}
	if !f.Now().Equal(stopped) {
		t.Fatal("a stopped clock moved")
	}
}

func TestWithDeadlineFollowsTheClock(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	f := NewFake(t0)
	ctx, cancel := WithDeadline(context.Background(), f, t0.Add(21*time.Second))
	defer cancel()
	for f.Waiting() == 0 {
		time.Sleep(time.Millisecond) // the watcher starts its wait
	}
	f.Advance(20 * time.Second)
	if ctx.Err() != nil {
		t.Fatal("cancelled before its deadline")
	}
	f.Advance(time.Second)
	<-ctx.Done()
	if !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Fatalf("cause = %v", context.Cause(ctx))
	}
	ctx2, cancel2 := WithDeadline(context.Background(), f, t0)
	defer cancel2()
	<-ctx2.Done() // already past
}
