package core

import (
	"context"
	"errors"
	"fmt"
)

// Code is the kind of an error, as callers act on it. The CLI maps codes to
// exit statuses (cli.exitCode) and the HTTP API to statuses (api.httpStatus),
// each in one place; nothing else looks at them.
type Code string

const (
	// CodeInvalid: a value in the request is malformed (a path that is not
	// a path, a name that is not a name, a negative duration). Fix the
	// request; the CLI reports it as a usage error.
	CodeInvalid Code = "invalid"
	// CodeNotFound: what the request names does not exist (no such key,
	// version, follow, record, or content not in the repo).
	CodeNotFound Code = "not_found"
	// CodeConflict: the request clashes with what exists (a key or service
	// of that name exists, a version is current already).
	CodeConflict Code = "conflict"
	// CodeRefused: the input is well-formed but refused (a forged or stale
	// record, a corrupt CAR, an incomplete DAG, a site that does not build).
	CodeRefused Code = "refused"
	// CodeUnavailable: the request needs what is not running (the node, a
	// peer that has the content, a remote service).
	CodeUnavailable Code = "unavailable"
	// CodeRepoFull: the repo's quota (--storage-max) is taken by what it
	// holds, even after collecting garbage: unpin something or raise it.
	// Nothing of the refused write is left.
	CodeRepoFull Code = "repo_full"
	// CodeUnauthorized: the API token is missing or wrong.
	CodeUnauthorized Code = "unauthorized"
	// CodeInternal: anything else; the message says what failed.
	CodeInternal Code = "internal"
)

// Error is an error with a Code. Message is complete and meant for a
// person; Err, when set, is the cause (it is not sent over the API).
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of code with a formatted message; %w keeps the
// cause for errors.Is and errors.As.
func Errorf(code Code, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// ErrorCode is the Code of err: that of the first *Error in its chain,
// else CodeInternal (a canceled or expired context is CodeUnavailable: the
// work did not get done in time, nothing is wrong with the request).
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return CodeUnavailable
	}
	return CodeInternal
}
