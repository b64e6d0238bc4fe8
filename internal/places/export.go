package places

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Export returns the places file shipped with edits (by place id) written into it: the
// same file, every comment and every other line kept, with each edited [[place]]'s fact
// lines rewritten, so that a reviewer reads a small diff and can commit it. It parses what it
// wrote with Parse and fails unless every place reads back as the edits say.
func Export(shipped []byte, edits map[string]Facts) ([]byte, error) {
	lines := strings.SplitAfter(string(shipped), "\n")
	var out []string
	for i := 0; i < len(lines); {
		if strings.TrimSpace(lines[i]) != "[[place]]" {
			out = append(out, lines[i])
			i++
			continue
		}
		// A block runs to the next table header; comments and blank lines before that header
		// belong to the next entry, so the block's own lines end at its last key = value.
		end := i + 1
		for end < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[end]), "[") {
			end++
		}
		last := i
		for j := i + 1; j < end; j++ {
			if k, _ := keyOf(lines[j]); k != "" {
				last = j
			}
		}
		out = append(out, rewriteBlock(lines[i:last+1], edits)...)
		out = append(out, lines[last+1:end]...)
		i = end
	}
	data := []byte(strings.Join(out, ""))
	if err := checkExport(shipped, data, edits); err != nil {
		return nil, err
	}
	return data, nil
}

// rewriteBlock rewrites the fact lines of one [[place]] block when edits has its id, and
// adds the fact lines it lacks after its last line (only policy_date_approx may be left out
// of the file, when false).
func rewriteBlock(block []string, edits map[string]Facts) []string {
	id := ""
	for _, l := range block {
		if k, v := keyOf(l); k == "id" {
			id, _ = strconv.Unquote(v)
		}
	}
	f, ok := edits[id]
	if !ok {
		return block
	}
	want := factLines(f)
	out := make([]string, 0, len(block)+1)
	written := map[string]bool{}
	for _, l := range block {
		k, _ := keyOf(l)
		if v, ok := want[k]; ok {
			out = append(out, k+" = "+v+"\n")
			written[k] = true
			continue
		}
		out = append(out, l)
	}
	if n := len(out); n > 0 && !strings.HasSuffix(out[n-1], "\n") {
		out[n-1] += "\n"
	}
	for _, k := range factKeys {
		if !written[k] && (k != "policy_date_approx" || f.PolicyDateApprox) {
			out = append(out, k+" = "+want[k]+"\n")
		}
	}
	return out
}

// factKeys are the file's names of Facts' fields, in the file's order.
var factKeys = []string{"dhs_list", "doj_list", "policy_en", "policy_es", "policy_date", "policy_date_approx", "source", "source_url", "verified", "checked"}

// factLines are f's values as TOML, by key.
func factLines(f Facts) map[string]string {
	return map[string]string{
		"dhs_list": strconv.FormatBool(f.DHSList), "doj_list": strconv.FormatBool(f.DOJList),
		"policy_en": tomlString(f.PolicyEN), "policy_es": tomlString(f.PolicyES),
		"policy_date": tomlString(f.PolicyDate), "policy_date_approx": strconv.FormatBool(f.PolicyDateApprox),
		"source": tomlString(f.Source), "source_url": tomlString(f.SourceURL),
		"verified": strconv.FormatBool(f.Verified), "checked": tomlString(f.Checked),
	}
}

// keyOf splits a `key = value` line; "" for anything else (a comment, a blank line).
func keyOf(line string) (key, value string) {
	k, v, ok := strings.Cut(line, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" || strings.HasPrefix(k, "#") || strings.ContainsAny(k, " \t\"[") {
		return "", ""
	}
	return k, strings.TrimSpace(v)
}

// tomlString writes s as a TOML basic string. Control characters cannot reach here (the
// rules refuse them), but are escaped anyway so that the file always parses.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// checkExport parses the exported file and compares every place with the shipped file's
// directory with the edits laid over it.
func checkExport(shipped, exported []byte, edits map[string]Facts) error {
	base, err := Parse(shipped)
	if err != nil {
		return fmt.Errorf("export: the shipped file: %w", err)
	}
	want, err := base.With(edits)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	got, err := Parse(exported)
	if err != nil {
		return fmt.Errorf("export: the file written does not parse: %w", err)
	}
	if err := SameEntries(want, got); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// SameEntries reports, as an error naming the first difference, whether a and b hold the
// same places with the same fields, in the same order.
func SameEntries(a, b *Directory) error {
	pa, pb := a.Places(), b.Places()
	if len(pa) != len(pb) {
		return fmt.Errorf("%d places, want %d", len(pb), len(pa))
	}
	for i := range pa {
		x, y := *pa[i], *pb[i]
		x.labels, y.labels = nil, nil
		if !reflect.DeepEqual(x, y) {
			return fmt.Errorf("place %q reads back as %+v, want %+v", pa[i].ID, y, x)
		}
	}
	if !reflect.DeepEqual(a.State, b.State) || !reflect.DeepEqual(a.StateAlso, b.StateAlso) || !reflect.DeepEqual(a.Lists, b.Lists) {
		return fmt.Errorf("the state laws or federal lists differ")
	}
	return nil
}
