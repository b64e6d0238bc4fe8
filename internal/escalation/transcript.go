package escalation

import (
	"strconv"
	"strings"
	"time"
)

// A transcript line is sealed as "<speaker>: <text>", where the speaker is "member",
// "volunteer" or "system" followed by optional fields: t=<unix seconds> (when), v=<volunteer
// id> (who wrote it), draft=<broadcast id> (the alert draft a verified report became). Lines
// written before these fields existed ("member: hola") read the same, without time or writer.

// Speakers of a transcript line.
const (
	SpeakerMember    = "member"
	SpeakerVolunteer = "volunteer"
	SpeakerSystem    = "system"
)

// Line is one line of a case's transcript, opened.
type Line struct {
	Who string // SpeakerMember, SpeakerVolunteer or SpeakerSystem
	// Volunteer is the id of the volunteer who wrote it, when known, and Name their name
	// (CaseDetail fills it; "" once they left the roster).
	Volunteer, Name string
	// At is when it was written (zero for lines older than the field).
	At time.Time
	// Draft is the alert draft's id, on the system line a verified report leaves.
	Draft string
	Text  string
}

// volunteerLine is the speaker of a line volunteer id wrote.
func volunteerLine(id string) string { return SpeakerVolunteer + " v=" + id }

// draftLine is the speaker of the line recording a verified report's draft.
func draftLine(id string) string { return SpeakerSystem + " draft=" + id }

// formatLine writes a line of speaker at time at.
func formatLine(speaker string, at time.Time, text string) string {
	who, rest, _ := strings.Cut(speaker, " ")
	head := who + " t=" + strconv.FormatInt(at.Unix(), 10)
	if rest != "" {
		head += " " + rest
	}
	return head + ": " + text
}

// parseLine reads a line formatLine wrote, or an older "who: text" one. Anything else is
// read as the member's words, as the code before the fields did.
func parseLine(plain string) Line {
	head, text, ok := strings.Cut(plain, ": ")
	fields := strings.Fields(head)
	if !ok || len(fields) == 0 || (fields[0] != SpeakerMember && fields[0] != SpeakerVolunteer && fields[0] != SpeakerSystem) {
		return Line{Who: SpeakerMember, Text: plain}
	}
	l := Line{Who: fields[0], Text: text}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "t":
			if sec, err := strconv.ParseInt(v, 10, 64); err == nil {
				l.At = time.Unix(sec, 0)
			}
		case "v":
			l.Volunteer = v
		case "draft":
			l.Draft = v
		}
	}
	return l
}

// withNote says in an audit detail that a volunteer left a note (never the note itself).
func withNote(detail, note string) string {
	switch {
	case note == "":
		return detail
	case detail == "":
		return noteKept
	}
	return detail + "; " + noteKept
}

// noteKept is what the audit log says of a volunteer's note: the note itself is free text
// (it may repeat a member's words), so it is kept sealed in the report, not in the log.
const noteKept = "with a note (in the report)"
