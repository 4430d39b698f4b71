package service

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/staff"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
)

// apiText is a text the source hands to the API: where it was written and a
// sample of it with every formatted value filled in.
type apiText struct {
	at     string
	sample string
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// sampleOf renders a message expression with stand-in values: a literal as
// it is, fmt.Sprintf's verbs filled, a concatenation's other parts as "x".
// ok is false for an expression without any literal text (a variable, an
// error's text), whose words are checked where they are written.
func sampleOf(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, okA := sampleOf(x.X)
		b, okB := sampleOf(x.Y)
		if !okA && !okB {
			return "", false
		}
		if !okA {
			a = "x"
		}
		if !okB {
			b = "x"
		}
		return a + b, true
	case *ast.CallExpr:
		if sel, ok := x.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Sprintf" || sel.Sel.Name == "Errorf") && len(x.Args) > 0 {
			f, ok := sampleOf(x.Args[0])
			if !ok {
				return "", false
			}
			return verb.ReplaceAllStringFunc(f, func(v string) string {
				switch v[len(v)-1] {
				case 'd':
					return "1"
				case 'q':
					return `"x"`
				case 'v':
					return "1"
				case '%':
					return "%"
				}
				return "x"
			}), true
		}
	case *ast.ParenExpr:
		return sampleOf(x.X)
	}
	return "", false
}

// makesValidationError tells whether a function literal builds a
// ValidationError (a validation's local helper, not a score line's).
func makesValidationError(lit *ast.FuncLit) bool {
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CompositeLit); ok {
			switch tt := c.Type.(type) {
			case *ast.Ident:
				found = found || tt.Name == "ValidationError"
			case *ast.SelectorExpr:
				found = found || tt.Sel.Name == "ValidationError"
			}
		}
		return !found
	})
	return found
}

// apiTexts finds, in the non-test Go files of dirs, every text that reaches
// an API answer as an error's reason: ValidationError's and
// ConflictError's Reason, abortError's message, a CSV import row's message.
func apiTexts(t *testing.T, dirs ...string) []apiText {
	t.Helper()
	var out []apiText
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			add := func(e ast.Expr) {
				if s, ok := sampleOf(e); ok {
					out = append(out, apiText{at: fset.Position(e.Pos()).String(), sample: s})
				}
			}
			// A validation writes its reasons through a local helper, bad :=
			// func(field, format string, args ...any), that makes the
			// ValidationError: its calls' format argument is a reason.
			formatAt := map[string]int{}
			ast.Inspect(f, func(n ast.Node) bool {
				as, ok := n.(*ast.AssignStmt)
				if !ok || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
					return true
				}
				name, _ := as.Lhs[0].(*ast.Ident)
				lit, _ := as.Rhs[0].(*ast.FuncLit)
				if name == nil || lit == nil || !makesValidationError(lit) {
					return true
				}
				i := 0
				for _, field := range lit.Type.Params.List {
					for _, pn := range field.Names {
						if pn.Name == "format" {
							formatAt[name.Name] = i
						}
						i++
					}
				}
				return true
			})
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.CompositeLit:
					name := ""
					switch tt := x.Type.(type) {
					case *ast.Ident:
						name = tt.Name
					case *ast.SelectorExpr:
						name = tt.Sel.Name
					}
					for _, el := range x.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						key, _ := kv.Key.(*ast.Ident)
						if key == nil {
							continue
						}
						switch {
						case (name == "ValidationError" || name == "ConflictError") && key.Name == "Reason",
							name == "ImportError" && key.Name == "Message":
							add(kv.Value)
						}
					}
				case *ast.CallExpr:
					fn := ""
					switch ff := x.Fun.(type) {
					case *ast.Ident:
						fn = ff.Name
					case *ast.SelectorExpr:
						fn = ff.Sel.Name
					}
					if i, ok := formatAt[fn]; ok && len(x.Args) > i {
						sprintf := &ast.CallExpr{Fun: &ast.SelectorExpr{X: ast.NewIdent("fmt"), Sel: ast.NewIdent("Sprintf")}, Args: x.Args[i:]}
						if s, ok := sampleOf(sprintf); ok {
							out = append(out, apiText{at: fset.Position(x.Pos()).String(), sample: s})
						}
					}
					switch {
					case fn == "abortError" && len(x.Args) >= 4:
						add(x.Args[3])
					case fn == "rowErr" && len(x.Args) == 2:
						add(x.Args[1])
					case fn == "beforeParam" && len(x.Args) >= 2:
						if s, ok := sampleOf(x.Args[1]); ok {
							out = append(out, apiText{at: fset.Position(x.Pos()).String(), sample: "must be " + s})
						}
					}
				}
				return true
			})
		}
	}
	return out
}

// Every reason the service and the handlers can answer with has a code and
// a Chinese text: the source is scanned for them, so a new reason written
// without its message form fails here.
func TestEveryAPIReasonHasACodeAndChinese(t *testing.T) {
	// The service with its sub-packages, and the handlers.
	dirs := []string{"../handler"}
	if err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	texts := apiTexts(t, dirs...)
	if len(texts) < 50 {
		t.Fatalf("found only %d reasons: the scan is broken", len(texts))
	}
	// The sentinel errors whose text is answered as it is.
	texts = append(texts, apiText{"ErrUnauthenticated", auth.ErrUnauthenticated.Error()}, apiText{"ErrNotLinked", lead.ErrNotLinked.Error()},
		apiText{"ErrEndpointDisabled", outbound.ErrEndpointDisabled.Error()}, apiText{"ErrDeliveryInFlight", outbound.ErrDeliveryInFlight.Error()},
		apiText{"NotStaffReason", staff.NotStaffReason("ghost")})
	bad, callers := 0, 0
	for _, x := range texts {
		if strings.Contains(x.at, "respond.go") && x.sample == "must be x" {
			continue // beforeParam's reason: its callers' texts are checked instead
		}
		if strings.HasPrefix(x.sample, "must be ") && strings.HasSuffix(x.sample, " id") {
			callers++
		}
		if !explain.KnownReason(x.sample) {
			t.Errorf("%s: %q has no message form (add one to reasonForms)", x.at, x.sample)
			bad++
		}
	}
	if callers < 4 {
		t.Errorf("found %d id reasons: beforeParam's callers were not scanned", callers)
	}
	t.Logf("%d reasons, %d without a form", len(texts), bad)
}
