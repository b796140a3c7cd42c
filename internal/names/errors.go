package names

import (
	"errors"
	"fmt"
)

// Reasons a record is refused. A *RecordError wraps exactly one of them, so
// callers can test with errors.Is and still print the specific sentence.
var (
	ErrExpired       = errors.New("record expired")
	ErrBadSignature  = errors.New("record signature does not verify")
	ErrWrongKey      = errors.New("record is signed by another key than the name's")
	ErrMalformed     = errors.New("record is malformed")
	ErrLowerSequence = errors.New("record is older than the one held")
	// ErrNoRoom: a record for a name not held yet, from a stranger, past
	// Config.MaxRecords or the repo's quota.
	ErrNoRoom = errors.New("no room for another record")
)

var (
	// ErrNotFound means no record (or DNSLink) exists for a name anywhere we looked.
	ErrNotFound = errors.New("names: not found")
	// ErrRoutingPut means a record was signed and stored locally but putting it
	// to routing failed; the returned record is valid and a later re-put
	// (Republish, the follower) can still spread it.
	ErrRoutingPut = errors.New("names: put to routing failed")
	// ErrDNSDisabled is returned for a DNSLink name that is not overridden
	// when no DNS resolver is configured (--dns-resolver none, tests).
	ErrDNSDisabled = errors.New("names: DNS lookups are disabled")
)

// RecordError says why an IPNS record for Name was refused.
type RecordError struct {
	Name   string // the IPNS name the record was checked against
	Reason error  // ErrExpired, ErrBadSignature, ErrWrongKey, ErrMalformed, ErrLowerSequence or ErrNoRoom
	Detail string // the full sentence, naming the name and the values involved
	Err    error  // the underlying boxo error, if any
}

func (e *RecordError) Error() string { return "names: " + e.Detail }

// Unwrap exposes both the reason and the underlying error to errors.Is/As.
func (e *RecordError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

func recordErr(name string, reason, err error, format string, args ...any) *RecordError {
	return &RecordError{Name: name, Reason: reason, Err: err, Detail: fmt.Sprintf(format, args...)}
}
