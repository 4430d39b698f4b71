package handler_test

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHandlerTalksToServiceOnly holds the layering rule of docs/ARCHITECTURE.md:
// the HTTP layer (this package and the packages under it) imports service, and
// neither the store (model) nor WeCom (wecom); what it renders are service's
// views, what it maps are service's errors.
func TestHandlerTalksToServiceOnly(t *testing.T) {
	const module = "github.com/leadgate/scrm-gateway/"
	forbidden := []string{module + "model", module + "wecom"}
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
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("%s imports %s; the HTTP layer talks to service only", filepath.Join("handler", dir), imp)
				}
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
