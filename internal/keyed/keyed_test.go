package keyed

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMutex(t *testing.T) {
	var k Mutex
	tests := []struct {
		name      string
		a, b      string
		exclusive bool
	}{
		{"same key waits", "x", "x", true},
		{"other keys do not", "x", "y", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unlock := k.Lock(tt.a)
			got := make(chan struct{})
			go func() {
				defer close(got)
				k.Lock(tt.b)()
			}()
			select {
			case <-got:
				require.False(t, tt.exclusive, "locked %q while %q was held", tt.b, tt.a)
			case <-time.After(50 * time.Millisecond):
				require.True(t, tt.exclusive, "%q waited for %q", tt.b, tt.a)
			}
			unlock()
			<-got
		})
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	require.Empty(t, k.m, "unused keys are dropped")
}

// Many goroutines on a few keys: each key's counter is only ever touched by
// its holder, which the race detector checks.
func TestMutexExcludes(t *testing.T) {
	var k Mutex
	counts := map[string]*int{"a": new(int), "b": new(int)}
	var wg sync.WaitGroup
	for i := range 100 {
		key := []string{"a", "b"}[i%2]
		wg.Go(func() {
			defer k.Lock(key)()
			*counts[key]++
		})
	}
	wg.Wait()
	require.Equal(t, 50, *counts["a"])
	require.Equal(t, 50, *counts["b"])
}
