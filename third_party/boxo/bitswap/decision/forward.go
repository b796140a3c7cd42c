package decision

import "github.com/ipfs/boxo/bitswap/server"

type (
	// Deprecated: use server.Receipt instead
	Receipt = server.Receipt
	// Deprecated: use server.ScoreLedger instead
	ScoreLedger = server.ScoreLedger
	// Deprecated: use server.ScorePeerFunc instead
	ScorePeerFunc = server.ScorePeerFunc
)
