// Package keyed is one mutex per key, for stores that serialise
// read-modify-write per name without serialising different names.
//
// A key's mutex exists only while someone holds or waits for it, so a
// Mutex does not grow with the keys it has seen. The zero Mutex is ready.
package keyed

import "sync"

// Mutex is a set of mutexes by key.
type Mutex struct {
	mu sync.Mutex
	m  map[string]*entry
}

type entry struct {
	mu sync.Mutex
	n  int // holders and waiters
}

// Lock locks key's mutex, waiting for it, and returns its unlock.
func (k *Mutex) Lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*entry)
	}
	e := k.m[key]
	if e == nil {
		e = &entry{}
		k.m[key] = e
	}
	e.n++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.n--; e.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
