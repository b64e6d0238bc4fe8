// Package segment counts how many SMS segments a message costs and, when an organization
// asks for it, rewrites a message so that it costs fewer.
//
// Carriers bill per segment, not per message. A reply in the GSM-7 alphabet fits 160
// characters in one segment, but a single character outside it (an "á", a curly quote pasted
// from a word processor, an emoji) switches the whole message to UCS-2, where one segment
// holds only 70. A Spanish reply can therefore cost two or three times what its length
// suggests. That matters twice over here: members on prepaid plans with little credit pay for
// what they receive in some countries, and a broadcast multiplies every extra segment by the
// number of recipients. Counting lets the hotline show the cost before sending; ToGSM lets an
// organization trade accents for cost when it chooses to.
//
// The package is pure: no I/O, no configuration, safe for concurrent use.
package segment

import "unicode/utf8"

// Encoding is the character encoding a message travels in between the carrier and the phone.
type Encoding string

// The two encodings an SMS can use. A message is GSM-7 only if every character in it is.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// Segment sizes, in units of the encoding. A message split into several parts loses room in
// each part to the user data header that tells the phone how to reassemble them.
const (
	gsmSingle  = 160 // septets in a message sent as one segment
	gsmPart    = 153 // septets per part of a split message
	ucs2Single = 70  // UTF-16 code units in a message sent as one segment
	ucs2Part   = 67  // UTF-16 code units per part of a split message
)

// Info describes what a message costs to send.
type Info struct {
	// Encoding is GSM7 if every character is in the GSM 03.38 alphabet, UCS2 otherwise.
	Encoding Encoding
	// Chars is the length as the member sees it, in runes. An emoji built from several code
	// points (a flag, a family) counts as several.
	Chars int
	// Units is the length in the encoding: septets for GSM-7, where a character from the
	// extension table counts 2, and UTF-16 code units for UCS-2, where a character outside the
	// Basic Multilingual Plane (most emoji) counts 2.
	Units int
	// Segments is the number of SMS the carrier bills. It is 0 for the empty string, because
	// nothing is sent.
	Segments int
}

// Count reports the encoding, length and number of segments of s.
//
// Count does not normalize s: an "é" written as "e" plus a combining accent is two characters,
// and the accent forces UCS-2, because that is what Twilio would send. Invalid UTF-8 bytes
// count as U+FFFD, one character each, which is not GSM-7 and so forces UCS-2; erring towards
// the more expensive encoding keeps a cost estimate from being too low.
//
// Count does not allocate.
func Count(s string) Info {
	var (
		chars    int
		gsm, ucs packer
		isGSM    = true
	)
	for i := 0; i < len(s); {
		// Most replies are mostly ASCII; skip the UTF-8 decoder for them.
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		chars++

		if isGSM {
			if n := gsmSeptets(r); n > 0 {
				gsm.add(n, gsmPart)
			} else {
				isGSM = false
			}
		}
		n := 1
		if r > 0xFFFF {
			n = 2 // a surrogate pair
		}
		ucs.add(n, ucs2Part)
	}

	if isGSM {
		return Info{Encoding: GSM7, Chars: chars, Units: gsm.units, Segments: gsm.segments(gsmSingle)}
	}
	return Info{Encoding: UCS2, Chars: chars, Units: ucs.units, Segments: ucs.segments(ucs2Single)}
}

// packer lays characters into the parts of a split message the way a real encoder does: a
// character that does not fit whole in the current part starts the next one. A GSM-7 escape
// and the septet it modifies must arrive in the same part, and so must the two halves of a
// UTF-16 surrogate pair, or the phone would show garbage at the join. So a split message can
// need more parts than its length divided by the part size.
type packer struct {
	units int // total units so far
	parts int // parts already filled, before the current one
	fill  int // units in the current part
}

// add places a character of n units, given parts of size units each.
func (p *packer) add(n, size int) {
	p.units += n
	if p.fill+n > size {
		p.parts++
		p.fill = 0
	}
	p.fill += n
}

// segments returns how many segments the packed characters need, given the number of units
// that fit in a message sent unsplit.
func (p *packer) segments(single int) int {
	switch {
	case p.units == 0:
		return 0
	case p.units <= single:
		return 1
	}
	return p.parts + 1
}

// gsmSeptets reports how many septets r takes in the GSM 03.38 default alphabet: 1 for a
// character of the basic set, 2 for one of the extension table (an escape septet and the
// character), and 0 if r cannot be written in GSM-7 at all.
func gsmSeptets(r rune) int {
	if r < utf8.RuneSelf {
		return int(asciiSeptets[r])
	}
	switch r {
	// The non-ASCII characters of the basic set, in the order of the 03.38 table. 0x09 is the
	// capital Ç: the standard has no lowercase ç.
	case '£', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', 'Ø', 'ø', 'Å', 'å',
		'Δ', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', 'Æ', 'æ', 'ß', 'É',
		'¤', '¡', 'Ä', 'Ö', 'Ñ', 'Ü', '§', '¿', 'ä', 'ö', 'ñ', 'ü', 'à':
		return 1
	case '€':
		return 2
	}
	return 0
}

// asciiSeptets gives the septets of each ASCII character, 0 for those GSM-7 lacks. It is a
// lookup table so that counting an ASCII reply costs one load per byte.
var asciiSeptets = func() (t [utf8.RuneSelf]uint8) {
	for c := ' '; c <= '~'; c++ {
		t[c] = 1
	}
	// GSM-7 puts ¿ where ASCII has the backtick, so the backtick has no GSM-7 form.
	t['`'] = 0
	for _, c := range "^{}\\[~]|" {
		t[c] = 2
	}
	t['\n'] = 1
	t['\r'] = 1
	t['\f'] = 2 // form feed is in the extension table; no other control character is in GSM-7
	return t
}()
