package redisstore

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/redistest"
)

// Every Lua script has a test of its own, TestScript<Name> for <name>Script, of its contract
// (each answer, each branch), run against the plain Redis and, when HOTLINE_TEST_CLUSTER_URL
// is set, against a Redis Cluster, where a script whose keys are in different hash slots
// fails. The scripts are run directly, with the keys the store builds, so a test reads as the
// script's documentation: these KEYS and ARGV give this answer and leave Redis so.

// eachStore runs fn with a fresh Store on every Redis the tests have (redistest.Each).
func eachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		s, err := New(rdb, prefix, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

// runScript runs script on s's Redis and returns its answer: int64, string, []any, or nil
// for a Lua false or nil.
func runScript(t *testing.T, s *Store, script *redis.Script, keys []string, args ...any) any {
	t.Helper()
	v, err := script.Run(context.Background(), s.rdb, keys, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		t.Fatalf("running the script: %v", err)
	}
	return v
}

// wantAnswer fails the test unless the script answered want.
func wantAnswer(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answer %#v, want %#v", got, want)
	}
}

// hash reads a hash whole; nil when it does not exist.
func hash(t *testing.T, s *Store, key string) map[string]string {
	t.Helper()
	m, err := s.rdb.HGetAll(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// str reads a string key; "" when it does not exist.
func str(t *testing.T, s *Store, key string) string {
	t.Helper()
	v, err := s.rdb.Get(context.Background(), key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	return v
}

// wantTTL fails the test unless key expires in (want-slack, want]: a TTL set by the
// script, read a moment later. want 0 means the key has no expiry; -1 that it does not exist.
func wantTTL(t *testing.T, s *Store, key string, want time.Duration) {
	t.Helper()
	got, err := s.rdb.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	const slack = 5 * time.Second
	switch {
	case want == 0 && got == -1: // no expiry (go-redis gives -1 for PTTL's -1)
	case want == -1 && got == -2:
	case want > 0 && got <= want && got > want-slack:
	default:
		t.Errorf("%s: TTL %v, want %v", key, got, want)
	}
}

// noTTL and gone are wantTTL's two special values.
const (
	noTTL time.Duration = 0
	gone  time.Duration = -1
)

// TestEveryScriptHasATest: each redis.NewScript under internal/ is tested by a
// TestScript<Name> in its own package, so a new script cannot arrive untested.
func TestEveryScriptHasATest(t *testing.T) {
	root := ".."
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	scripts := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(root, d.Name())
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		var names, tests []string
		for _, path := range files {
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(path, "_test.go") {
				for _, decl := range f.Decls {
					if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "TestScript") {
						tests = append(tests, fn.Name.Name)
					}
				}
				continue
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if vs, ok := n.(*ast.ValueSpec); ok {
					for i, v := range vs.Values {
						if isNewScript(v) && i < len(vs.Names) {
							names = append(names, vs.Names[i].Name)
						}
					}
				}
				return true
			})
		}
		for _, name := range names {
			scripts++
			base := strings.TrimSuffix(name, "Script")
			want := "TestScript" + string(unicode.ToUpper(rune(base[0]))) + base[1:]
			if !slices.Contains(tests, want) {
				t.Errorf("internal/%s: %s has no test: write %s", d.Name(), name, want)
			}
		}
	}
	if scripts == 0 {
		t.Fatal("no script found under internal/: the walk missed them")
	}
}

// isNewScript reports whether e is redis.NewScript(...).
func isNewScript(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "NewScript" {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "redis"
}
