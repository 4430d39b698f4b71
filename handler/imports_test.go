package handler_test

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHandlerTalksToServiceOnly holds the layering rule of docs/ARCHITECTURE.md:
// the HTTP layer (this package and the packages under it) imports of ours
// only service and its packages (service/...), clock, and handler/...; never
// the store (model) nor WeCom (wecom). What it renders are the services'
// views, what it maps are the services' errors (service/apierr).
func TestHandlerTalksToServiceOnly(t *testing.T) {
	const module = "github.com/leadgate/scrm-gateway"
	allowed := func(imp string) bool {
		for _, p := range []string{module + "/service", module + "/clock", module + "/handler"} {
			if imp == p || strings.HasPrefix(imp, p+"/") {
				return true
			}
		}
		return false
	}
	checked := 0
	err := filepath.WalkDir(".", func(dir string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		pkg, err := build.ImportDir(dir, 0)
		if _, none := err.(*build.NoGoError); none {
			return nil
		}
		if err != nil {
			return err
		}
		checked++
		for _, imp := range pkg.Imports {
			if (imp == module || strings.HasPrefix(imp, module+"/")) && !allowed(imp) {
				t.Errorf("%s imports %s; the HTTP layer imports only service/..., clock and handler/...", filepath.Join("handler", dir), imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no package checked")
	}
}
