package places

import (
	"os"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/shareddata"
)

func TestParseZipCSV(t *testing.T) {
	d := mustLoad(t)
	csv := "zipcode,county,city\n" +
		"87501,Santa Fe,Pojoaque valley\n" +
		"88001,Dona Ana,Las cruces\n" +
		"87004,Sandoval,Bernalillo\n" + // the town of Bernalillo, not the county of that name
		"88044,DeBaca,\n" +
		"8800,Dona Ana,\n" +
		"99999,Gotham,\n"
	m, rej, err := d.ParseZipCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]ZipEntry{
		"87501": {County: "santa-fe-county"},
		"88001": {County: "dona-ana-county", City: "las-cruces"},
		"87004": {County: "sandoval-county"},
		"88044": {County: "de-baca-county"},
	}
	for zip, w := range want {
		if m[zip] != w {
			t.Errorf("%s = %+v, want %+v", zip, m[zip], w)
		}
	}
	if len(m) != len(want) {
		t.Errorf("%d entries, want %d: %v", len(m), len(want), m)
	}
	if len(rej) != 2 || rej[0].Line != 6 || !strings.Contains(rej[1].Reason, `unknown county "Gotham"`) {
		t.Errorf("rejected = %+v", rej)
	}
}

func TestParseZipCSVBadHeader(t *testing.T) {
	d := mustLoad(t)
	if _, _, err := d.ParseZipCSV(strings.NewReader("zip,name\n87501,x\n")); err == nil {
		t.Error("accepted a file without zipcode and county columns")
	}
}

// TestSharedZipFile imports the project's test data.
func TestSharedZipFile(t *testing.T) {
	f, err := os.Open(shareddata.ZipCSV(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := mustLoad(t)
	m, rej, err := d.ParseZipCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) < 300 {
		t.Errorf("only %d ZIPs imported", len(m))
	}
	// The census file has placeholder areas such as 870XX; those are the only rows to reject:
	// every county spelling in it ("Dona Ana", "DeBaca") must be recognised.
	for _, r := range rej {
		if !strings.HasSuffix(strings.ToUpper(strings.SplitN(r.Row, ",", 2)[0]), "XX") && !strings.HasSuffix(strings.ToUpper(strings.SplitN(r.Row, ",", 2)[0]), "HH") {
			t.Errorf("rejected line %d (%s): %s", r.Line, r.Row, r.Reason)
		}
	}
	if m["88001"].City != "las-cruces" || m["87501"].County != "santa-fe-county" {
		t.Errorf("88001 = %+v, 87501 = %+v", m["88001"], m["87501"])
	}
}

func TestZipTable(t *testing.T) {
	var zt ZipTable
	if _, ok := zt.Get("87501"); ok || zt.Len() != 0 {
		t.Fatal("empty table has entries")
	}
	zt.Replace(map[string]ZipEntry{"87501": {County: "santa-fe-county"}})
	if e, ok := zt.Get("87501"); !ok || e.County != "santa-fe-county" || zt.Len() != 1 {
		t.Errorf("Get = %+v, %v", e, ok)
	}
	for _, s := range []string{"8750", "875011", "8750a", "", "８７５０１"} {
		if IsZip(s) {
			t.Errorf("IsZip(%q)", s)
		}
	}
}
