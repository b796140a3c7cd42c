package pinsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A request whose content nobody provides yet stays queued and is tried
// again until it is pinned (a friend's laptop that wakes up later), or
// fails for good once RetryFor has passed, with the node's words.
func TestRetryUntilProvided(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	root := n.addDAG(t, "arrives later", true)
	var tries atomic.Int32
	noProvider := func(ctx context.Context, id string, c cid.Cid, o []multiaddr.Multiaddr, max uint64) (uint64, error) {
		if tries.Add(1) <= 3 {
			return 0, &PinError{Retry: true, Details: "no provider of " + c.String() + " answered", Err: errors.New("no providers found")}
		}
		return n.pin(ctx, id, c, o, max)
	}
	_, ts := mustServer(t, n, func(c *Config) {
		c.Pin = noProvider
		c.RetryFirst, c.RetryEvery = 20*time.Millisecond, 40*time.Millisecond
	})
	client := NewClient(ts.URL, testToken)
	st, err := client.Add(ctx, Pin{CID: root})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := client.Get(ctx, st.RequestID)
		assert.NoError(c, err)
		assert.Equal(c, Queued, got.Status, "waiting for a provider is queued, not failed")
		assert.Contains(c, got.Info["status_details"], "trying again at")
	}, eventually, time.Millisecond)
	got, err := client.WaitPinned(ctx, st.RequestID, poll)
	require.NoError(t, err)
	require.Equal(t, Pinned, got.Status)
	require.Equal(t, int32(4), tries.Load())
	require.True(t, n.isPinned(t, root))

	// Past RetryFor the request fails, saying why.
	never := n.addDAG(t, "never provided", false)
	_, ts = mustServer(t, n, func(c *Config) {
		c.Pin = func(_ context.Context, _ string, c cid.Cid, _ []multiaddr.Multiaddr, _ uint64) (uint64, error) {
			return 0, &PinError{Retry: true, Details: "no provider of " + c.String() + " answered", Err: errors.New("no providers found")}
		}
		c.RetryFirst, c.RetryEvery, c.RetryFor = 10*time.Millisecond, 10*time.Millisecond, 100*time.Millisecond
	})
	client = NewClient(ts.URL, testToken)
	st, err = client.Add(ctx, Pin{CID: never})
	require.NoError(t, err)
	got, err = client.WaitPinned(ctx, st.RequestID, poll)
	require.ErrorIs(t, err, ErrPinFailed)
	require.Equal(t, "no provider of "+never.String()+" answered", got.Info["status_details"])
}

// What a friend reads of a failure is what the node chose to say, never
// an error's text, which may name the node's files.
func TestFailureDetailsNameNoLocalPath(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	root := n.addDAG(t, "fails locally", true)
	_, ts := mustServer(t, n, func(c *Config) {
		c.Pin = func(context.Context, string, cid.Cid, []multiaddr.Multiaddr, uint64) (uint64, error) {
			return 0, fmt.Errorf("repo: write /home/owner/.island/blocks/CIQ/x.data: no space left on device")
		}
	})
	client := NewClient(ts.URL, testToken)
	st, err := client.Add(ctx, Pin{CID: root})
	require.NoError(t, err)
	got, err := client.WaitPinned(ctx, st.RequestID, poll)
	require.ErrorIs(t, err, ErrPinFailed)
	require.NotContains(t, got.Info["status_details"], "/home")
	require.True(t, strings.HasPrefix(got.Info["status_details"], "the pinning node could not pin"), got.Info["status_details"])
}

// Removing a request forgets it durably before its pin goes: a pin a crash
// left without a request is no longer the service's (Accounts), so the
// node may release it.
func TestAccounts(t *testing.T) {
	ctx := context.Background()
	n := mustNode(t, tempDir(t))
	s, ts := mustServer(t, n, nil)
	client := NewClient(ts.URL, testToken)
	v1 := n.addDAG(t, "v1", true)
	st, err := client.Add(ctx, Pin{CID: v1})
	require.NoError(t, err)
	_, err = client.WaitPinned(ctx, st.RequestID, poll)
	require.NoError(t, err)
	require.True(t, s.Accounts(st.RequestID))
	require.False(t, s.Accounts("0123"))
	require.NoError(t, client.Remove(ctx, st.RequestID))
	require.False(t, s.Accounts(st.RequestID))
	has, err := n.ds.Has(ctx, requestKey(st.RequestID))
	require.NoError(t, err)
	require.False(t, has, "the removed request is gone from the datastore")
}
