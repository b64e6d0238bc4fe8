package privacy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// contexts lists every sealing context with the bytes it must keep, and the literal pieces
// it is built from. The bytes are pinned because values already stored were sealed under
// them: a change would make them unreadable.
var contexts = []struct {
	name   string
	got    []byte
	want   string
	pieces []string
}{
	{"MemberState", MemberState("m1"), "m1:s", []string{":s"}},
	{"Reply", Reply("m1", "SM1"), "m1:r:SM1", []string{":r:"}},
	{"OrganizerPhone", OrganizerPhone("o1"), "org:o1", []string{"org:"}},
	{"VolunteerPhone", VolunteerPhone("v1"), "vol:v1", []string{"vol:"}},
	{"CaseAddress", CaseAddress("m1"), "caseaddr:m1", []string{"caseaddr:"}},
	{"CaseTranscript", CaseTranscript(42), "case:42", []string{"case:"}},
	{"QueuedMessage", QueuedMessage("d1"), "out:d1", []string{"out:"}},
	{"SpoolRecord", SpoolRecord(), "spool", []string{"spool"}},
	{"HeldMessage", HeldMessage("m1"), "wahold:m1", []string{"wahold:"}},
	{"StatusMember", StatusMember(), "wastatus", []string{"wastatus"}},
}

func TestContextBytes(t *testing.T) {
	seen := map[string]string{}
	for _, c := range contexts {
		if string(c.got) != c.want {
			t.Errorf("%s = %q, want %q: values stored under it would no longer open", c.name, c.got, c.want)
		}
		if other, ok := seen[c.want]; ok {
			t.Errorf("%s and %s give the same context", c.name, other)
		}
		seen[c.want] = c.name
	}
}

// TestContextsDefinedOnce fails when a Go file of the module (tests included) outside this
// package builds a sealing context by hand, so the writer, the reader and reseal cannot drift
// apart: a []byte conversion of a string holding a context's literal piece, or a literal or
// conversion passed as the context of Seal or Open.
func TestContextsDefinedOnce(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the module root is not at %s: %v", root, err)
	}
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	var pieces []string
	for _, c := range contexts {
		pieces = append(pieces, c.pieces...)
	}
	fset := token.NewFileSet()
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			abs, err := filepath.Abs(path)
			if err != nil {
				return err
			}
			if name := d.Name(); abs == here || name == "testdata" || name == "vendor" || (strings.HasPrefix(name, ".") && path != root) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if isByteConversion(call) {
				ast.Inspect(call.Args[0], func(n ast.Node) bool {
					lit, ok := n.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						return true
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						return true
					}
					for _, p := range pieces {
						if strings.Contains(s, p) {
							t.Errorf("%s: a sealing context built by hand (%q); use the function in internal/privacy", fset.Position(lit.Pos()), s)
						}
					}
					return true
				})
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Seal" || sel.Sel.Name == "Open") && len(call.Args) == 2 {
				switch arg := call.Args[1].(type) {
				case *ast.BasicLit:
					t.Errorf("%s: a literal sealing context; use a function in internal/privacy", fset.Position(arg.Pos()))
				case *ast.CallExpr:
					if isByteConversion(arg) {
						t.Errorf("%s: a sealing context built by hand; use a function in internal/privacy", fset.Position(arg.Pos()))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d Go files read under %s: the walk missed the module", files, root)
	}
}

// isByteConversion reports whether call is []byte(x).
func isByteConversion(call *ast.CallExpr) bool {
	at, ok := call.Fun.(*ast.ArrayType)
	if !ok || at.Len != nil || len(call.Args) != 1 {
		return false
	}
	id, ok := at.Elt.(*ast.Ident)
	return ok && (id.Name == "byte" || id.Name == "uint8")
}
