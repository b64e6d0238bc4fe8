package console

import "strings"

// normalizePhone turns what a person types ("(505) 555-0101", "505 555 0101",
// "+1 505 555 0101") into E.164. Ten digits are taken for a US number, as the hotline's
// staff are in New Mexico; anything else is kept as typed, and refused later as not E.164.
func normalizePhone(in string) string {
	in = strings.TrimSpace(in)
	var b strings.Builder
	for i, c := range in {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == '+' && i == 0:
			b.WriteRune(c)
		case strings.ContainsRune(" -().", c):
		default:
			return in
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+"):
		return d
	case len(d) == 10:
		return "+1" + d
	case len(d) == 11 && d[0] == '1':
		return "+" + d
	}
	return d
}
