package repo

// PeerIDOf reads the peer ID the repo at dir records, without opening (or
// locking) it: a client checks with it that the daemon answering at
// $REPO/api is this repo's own and not a stranger at a stale address. A
// directory that was never initialised gives fs.ErrNotExist.
func PeerIDOf(dir string) (string, error) {
	c, err := readConfig(dir)
	if err != nil {
		return "", err
	}
	return c.PeerID, nil
}
