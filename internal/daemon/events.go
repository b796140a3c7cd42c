package daemon

import (
	"time"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/site"
)

// Event is something the daemon did that its user may want to see. The
// CLI prints each kind in its own words.
type Event interface{ event() }

// Joining says the first publish waits for a first peer: a record put
// before any peer is known reaches nobody.
type Joining struct{}

// JoinTimedOut says no peer answered in time; the site is published anyway.
type JoinTimedOut struct{ After time.Duration }

// SitePublished is a publish of the watched site (First: the one at start).
// Checking says a retrievability check runs in the background and will be
// reported as SiteChecked.
type SitePublished struct {
	Published core.Published
	Took      time.Duration
	First     bool
	Checking  bool
	// Folder is what the check of a folder published as it is (serve
	// --dir) found; nil for a site island built.
	Folder *site.FolderCheck
}

// SiteFailed is a publish that failed. Err is a *site.BuildError when the
// site does not build; the published version then stays as it was.
type SiteFailed struct {
	Err     error
	First   bool
	Content string // what is watched: the content directory or the folder
}

// SiteChecked is the outcome of the background retrievability check of a
// version.
type SiteChecked struct {
	Version     int
	Retrievable core.Retrievability
}

// Watching says the content directory (or folder) is watched for changes
// from now on.
type Watching struct{ Content string }

// WatchFailed is a problem watching the content directory; watching goes on.
type WatchFailed struct{ Err error }

func (Joining) event()       {}
func (JoinTimedOut) event()  {}
func (SitePublished) event() {}
func (SiteFailed) event()    {}
func (SiteChecked) event()   {}
func (Watching) event()      {}
func (WatchFailed) event()   {}
