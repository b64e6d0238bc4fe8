package privacy

import "strconv"

// Sealing contexts. Every sealed value is bound to the place it is kept (Seal's context), so
// a value copied to another member's key, another case or another queue entry does not open
// there. The writer, the reader and `hotline reseal` must build the same bytes for a place;
// they are built here and nowhere else. The bytes are part of the stored data: changing one
// makes every value already sealed under it unreadable.

// MemberState is the context of a member's flow state (language, subscriptions, opt-out,
// where a conversation stands), kept in the member's bucket hash or conversation key.
func MemberState(member string) []byte { return []byte(member + ":s") }

// Reply is the context of the replies saved for the member's message msg (its provider id,
// a MessageSid), so that a retried webhook is answered with the same text.
func Reply(member, msg string) []byte { return []byte(member + ":r:" + msg) }

// OrganizerPhone is the context of organizer id's phone number.
func OrganizerPhone(id string) []byte { return []byte("org:" + id) }

// VolunteerPhone is the context of volunteer id's phone number.
func VolunteerPhone(id string) []byte { return []byte("vol:" + id) }

// CaseAddress is the context of the address of a case opened by member: where relays to the
// member go while the case is open.
func CaseAddress(member string) []byte { return []byte("caseaddr:" + member) }

// CaseTranscript is the context of each line of case n's transcript.
func CaseTranscript(n int64) []byte { return []byte("case:" + strconv.FormatInt(n, 10)) }

// QueuedMessage is the context of direct message id (a page, a relay, a notice: recipient
// and text) waiting in the send queue for a retry.
func QueuedMessage(id string) []byte { return []byte("out:" + id) }

// SpoolRecord is the context of each inbound message (sender, text) kept in a process's
// spool file on local disk while Redis is down. It is the same for every record.
func SpoolRecord() []byte { return []byte("spool") }

// HeldMessage is the context of a message held for member on WhatsApp (a volunteer's reply
// written outside the 24-hour window), until they write again and it can go.
func HeldMessage(member string) []byte { return []byte("wahold:" + member) }

// StatusMember is the context of the member id carried, sealed, in the status callback URL
// of a WhatsApp message, so that a failure Twilio reports there can be acted on without the
// URL naming the member to anyone who reads it (Twilio's logs, the request inspector).
func StatusMember() []byte { return []byte("wastatus") }
