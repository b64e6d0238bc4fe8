package hotline

// ValidE164 reports whether p is a phone number in E.164 form: "+" and 7 to 15 digits.
func ValidE164(p string) bool {
	if len(p) < 8 || len(p) > 16 || p[0] != '+' {
		return false
	}
	for _, c := range p[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// MaskPhone keeps the last four digits, as staff know a phone by ("•••0100"): enough to
// tell organizers or volunteers apart in a list, too little to call anyone.
func MaskPhone(p string) string {
	if len(p) < 8 {
		return "•••"
	}
	return "•••" + p[len(p)-4:]
}
