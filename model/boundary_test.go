package model

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// No *gorm.DB leaves model: no exported function or method takes or returns
// one, and no exported struct field holds one, so callers reach the database
// only through the store's own operations.
func TestNoGormHandleLeavesTheStore(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	isGormDB := func(e ast.Expr) bool {
		found := false
		ast.Inspect(e, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "DB" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "gorm" {
					found = true
				}
			}
			return !found
		})
		return found
	}
	fields := func(fl *ast.FieldList) bool {
		if fl == nil {
			return false
		}
		for _, f := range fl.List {
			if isGormDB(f.Type) {
				return true
			}
		}
		return false
	}
	checked := 0
	for _, pkg := range pkgs {
		for name, file := range pkg.Files {
			for _, d := range file.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					checked++
					if d.Name.IsExported() && (fields(d.Type.Params) || fields(d.Type.Results)) {
						t.Errorf("%s: exported %s takes or returns a *gorm.DB", name, d.Name.Name)
					}
				case *ast.GenDecl:
					for _, s := range d.Specs {
						ts, ok := s.(*ast.TypeSpec)
						if !ok || !ts.Name.IsExported() {
							continue
						}
						st, ok := ts.Type.(*ast.StructType)
						if !ok {
							continue
						}
						for _, f := range st.Fields.List {
							for _, n := range f.Names {
								if n.IsExported() && isGormDB(f.Type) {
									t.Errorf("%s: %s.%s holds a *gorm.DB", name, ts.Name.Name, n.Name)
								}
							}
						}
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d functions seen: the package was not read", checked)
	}
}
