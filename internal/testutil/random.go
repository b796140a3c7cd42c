package testutil

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// RandomReader yields size bytes that depend only on seed.
func RandomReader(size int64, seed uint64) io.Reader {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// RandomBytes returns size bytes that depend only on seed.
func RandomBytes(size int, seed uint64) []byte {
	b, _ := io.ReadAll(RandomReader(int64(size), seed)) // ChaCha8 never fails
	return b
}
