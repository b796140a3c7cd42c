//go:build !linux

package site

import "errors"

// exchangeDirs has no atomic form here; replaceDir falls back to renames.
func exchangeDirs(a, b string) error { return errors.New("no atomic exchange on this system") }
