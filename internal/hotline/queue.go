package hotline

// The send queue's records: what waits to be sent, the claim on it, what became of it.

// Queue priorities, most urgent first: messages to one person (pages, relays, notices) that
// failed for a passing reason when first sent, urgent alerts, ordinary alerts. The first is
// named "direct", not "replies" (the name it had before it was used), so that a worker from
// before its entries existed never reads one and drops it as an unknown broadcast.
var Priorities = []string{"direct", "urgent", "normal"}

// QueueEntry is one message waiting to be sent.
type QueueEntry struct {
	Priority string
	ID       string // the stream entry id
	BC       string // the broadcast id
	Member   string
	Lang     string
	// Direct is the id of a message to one person (a page, a relay), whose recipient and
	// text are sealed in Sealed; BC, Member and Lang are empty then.
	Direct string
	Sealed []byte
}

// Outcome is what happened to one recipient.
type Outcome string

// The outcomes a recipient's entry can have; each is counted once.
const (
	OutcomeSent    Outcome = "sent"
	OutcomeFailed  Outcome = "failed"
	OutcomeSkipped Outcome = "skipped"
	// OutcomeSkippedNoTemplate is a recipient on WhatsApp outside the 24-hour window with
	// no approved template configured for the alert's language: free text would be refused
	// (Twilio 63016), so nothing is sent. It counts as skipped too, and on its own besides.
	OutcomeSkippedNoTemplate Outcome = "skipped_no_template"
)

// SendClaim is what claiming one recipient's message found.
type SendClaim int8

const (
	// ClaimTaken: the message is the holder's to send, marked in flight for the TTL.
	ClaimTaken SendClaim = iota
	// ClaimDone: the recipient has an outcome already (the entry was delivered twice).
	ClaimDone
	// ClaimHeld: another holder's mark is on it, or the same recipient came earlier in the
	// same claim; leave the entry alone.
	ClaimHeld
)

// PreparedSend is a queue entry ready to be sent: the claim on it, and its recipient's
// sealed durable state as stored (nil when there is none: see ClaimSends).
type PreparedSend struct {
	Claim SendClaim
	State []byte
}

// SendOutcome is the outcome of one recipient's message.
type SendOutcome struct {
	Entry   QueueEntry
	Outcome Outcome
}
