package pinsvc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multiaddr"
)

// Status is where a pin request is in its life.
type Status string

// The statuses the spec defines.
const (
	Queued  Status = "queued"
	Pinning Status = "pinning"
	Pinned  Status = "pinned"
	Failed  Status = "failed"
)

// ParseStatus checks s is one of the spec's statuses.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case Queued, Pinning, Pinned, Failed:
		return st, nil
	}
	return "", fmt.Errorf("pinsvc: unknown status %q: want queued, pinning, pinned or failed", s)
}

// Limits from the spec's schema.
const (
	maxNameLen   = 255
	maxOrigins   = 20
	maxMetaProps = 1000
	maxInfoLen   = 1024 // our bound on a failure explanation in Info
)

// Pin is what to pin.
type Pin struct {
	CID     cid.Cid
	Name    string
	Origins []multiaddr.Multiaddr // peers known to have the data
	Meta    map[string]string
}

// PinStatus is a pin request as the service reports it.
type PinStatus struct {
	RequestID string
	Status    Status
	Created   time.Time
	Pin       Pin
	Delegates []multiaddr.Multiaddr // the service's peers to connect to
	Info      map[string]string
}

type pinWire struct {
	CID     string            `json:"cid"`
	Name    string            `json:"name,omitempty"`
	Origins []string          `json:"origins,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
}

type statusWire struct {
	RequestID string            `json:"requestid"`
	Status    Status            `json:"status"`
	Created   time.Time         `json:"created"`
	Pin       pinWire           `json:"pin"`
	Delegates []string          `json:"delegates"`
	Info      map[string]string `json:"info"`
}

type resultsWire struct {
	Count   int          `json:"count"`
	Results []statusWire `json:"results"`
}

type failureWire struct {
	Error struct {
		Reason  string `json:"reason"`
		Details string `json:"details,omitempty"`
	} `json:"error"`
}

func (p Pin) wire() pinWire {
	w := pinWire{CID: p.CID.String(), Name: p.Name, Meta: p.Meta}
	for _, o := range p.Origins {
		w.Origins = append(w.Origins, o.String())
	}
	return w
}

// ParsePin reads a Pin object (a POST body) and checks it against the
// spec: a CID, a name of at most 255 characters, at most 20 distinct
// multiaddr origins, at most 1000 meta entries, nothing after the object.
func ParsePin(body []byte) (Pin, error) {
	var w pinWire
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return Pin{}, fmt.Errorf("pin object is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Pin{}, errors.New("pin object is followed by more data")
	}
	return w.pin()
}

func (w pinWire) pin() (Pin, error) {
	if w.CID == "" {
		return Pin{}, errors.New("pin.cid is required")
	}
	c, err := cid.Decode(w.CID)
	if err != nil {
		return Pin{}, fmt.Errorf("pin.cid %q is not a CID: %w", w.CID, err)
	}
	if n := utf8.RuneCountInString(w.Name); n > maxNameLen {
		return Pin{}, fmt.Errorf("pin.name is %d characters, more than %d", n, maxNameLen)
	}
	if len(w.Origins) > maxOrigins {
		return Pin{}, fmt.Errorf("pin.origins has %d entries, more than %d", len(w.Origins), maxOrigins)
	}
	if len(w.Meta) > maxMetaProps {
		return Pin{}, fmt.Errorf("pin.meta has %d entries, more than %d", len(w.Meta), maxMetaProps)
	}
	p := Pin{CID: c, Name: w.Name, Meta: w.Meta}
	seen := make(map[string]bool, len(w.Origins))
	for _, o := range w.Origins {
		ma, err := multiaddr.NewMultiaddr(o)
		if err != nil {
			return Pin{}, fmt.Errorf("pin.origins: %q is not a multiaddr: %w", o, err)
		}
		if seen[ma.String()] {
			return Pin{}, fmt.Errorf("pin.origins lists %q twice", o)
		}
		seen[ma.String()] = true
		p.Origins = append(p.Origins, ma)
	}
	return p, nil
}
