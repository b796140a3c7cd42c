package bitswap

import (
	"github.com/ipfs/boxo/bitswap/server"
	"github.com/ipfs/boxo/bitswap/tracer"
)

type (
	// DEPRECATED
	PeerBlockRequestFilter = server.PeerBlockRequestFilter
	// DEPRECATED
	TaskComparator = server.TaskComparator
	// DEPRECATED
	TaskInfo = server.TaskInfo
	// DEPRECATED
	Tracer = tracer.Tracer
)
