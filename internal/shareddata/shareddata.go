// Package shareddata finds the project's shared test data, which lives beside the
// repository (../shared/data) and is never committed. Only tests import it.
package shareddata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// ZipCSV is the ZIP → county table (nm-zip-county.csv). Where HOTLINE_TEST_ZIP_CSV names it
// (CI does), or CI is set, a missing file fails the test; elsewhere it is looked for beside
// the repository and the test is skipped, saying so, without it.
func ZipCSV(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("HOTLINE_TEST_ZIP_CSV")
	required := path != "" || os.Getenv("CI") != ""
	if path == "" {
		_, here, _, _ := runtime.Caller(0)
		path = filepath.Join(filepath.Dir(here), "..", "..", "..", "shared", "data", "nm-zip-county.csv")
	}
	if _, err := os.Stat(path); err != nil {
		if required {
			tb.Fatalf("the ZIP test data is required here: %v", err)
		}
		tb.Skipf("no ZIP test data at %s (see README: tests)", path)
	}
	return path
}
