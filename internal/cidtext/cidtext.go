// Package cidtext is the stored text form of an optional CID, shared by
// the stores that keep CIDs in JSON (site history, follows): a CID's
// string, and "" for none.
package cidtext

import "github.com/ipfs/go-cid"

// Format is c's string, or "" for cid.Undef.
func Format(c cid.Cid) string {
	if !c.Defined() {
		return ""
	}
	return c.String()
}

// Parse reads what Format wrote: "" is cid.Undef.
func Parse(s string) (cid.Cid, error) {
	if s == "" {
		return cid.Undef, nil
	}
	return cid.Decode(s)
}
