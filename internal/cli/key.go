package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/ipfs/boxo/ipns"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/islandsite/island/internal/repo"
)

func newKeyCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage the keys that sign IPNS names: key gen, key ls, key rm",
	}
	cmd.AddCommand(newKeyGenCmd(env, g), newKeyLsCmd(env, g), newKeyRmCmd(env, g))
	return cmd
}

// keyJSON is one key as `key ls --json` and `key gen --json` print it; ID
// is the IPNS name the key signs, as Kubo calls it.
type keyJSON struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// ipnsName is the IPNS name (k51…) that key signs records for.
func ipnsName(key crypto.PrivKey) (ipns.Name, error) {
	pid, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return ipns.Name{}, fmt.Errorf("key: %w", err)
	}
	return ipns.NameFromPeer(pid), nil
}

// keyByName returns the key called name ("self" is the node's identity),
// or the key whose IPNS name is name, as Kubo's --key accepts both.
func keyByName(r *repo.Repo, name string) (crypto.PrivKey, error) {
	if name == repo.SelfKey {
		return r.Identity(), nil
	}
	k, err := r.Keys().Get(name)
	if err == nil {
		return k, nil
	}
	if n, perr := ipns.NameFromString(name); perr == nil {
		return keyByIPNSName(r, n)
	}
	if !errors.Is(err, repo.ErrNoSuchKey) {
		return nil, err
	}
	return nil, noKeyError{name}
}

// noKeyError is keyByName's answer for a name no key has. It is
// repo.ErrNoSuchKey, so a command can word it for its own flag.
type noKeyError struct{ name string }

func (e noKeyError) Error() string {
	return fmt.Sprintf("no key named %q (see 'island key ls'; create one with 'island key gen %s')", e.name, e.name)
}

func (noKeyError) Unwrap() error { return repo.ErrNoSuchKey }

func keyByIPNSName(r *repo.Repo, n ipns.Name) (crypto.PrivKey, error) {
	all, err := r.Keys().List()
	if err != nil {
		return nil, err
	}
	for _, kn := range all {
		k, err := r.Keys().Get(kn)
		if err != nil {
			return nil, err
		}
		if id, err := ipnsName(k); err == nil && id.Equal(n) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no key signs %s (see 'island key ls')", n)
}

func newKeyGenCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gen NAME",
		Short: "Create an Ed25519 key called NAME and print the IPNS name it signs",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			return withRepo(cmd.Context(), env, g, func(r *repo.Repo) error {
				k, err := r.Keys().Generate(name)
				if errors.Is(err, repo.ErrKeyExists) {
					return fmt.Errorf("key gen: a key named %q already exists (see 'island key ls')", name)
				}
				if err != nil {
					return fmt.Errorf("key gen: %w", err)
				}
				id, err := ipnsName(k)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(env.Stdout, keyJSON{Name: name, ID: id.String()})
				}
				fmt.Fprintln(env.Stdout, id)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the key as JSON")
	return cmd
}

func newKeyLsCmd(env *Env, g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the keys: IPNS name and key name, self first",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withRepo(cmd.Context(), env, g, func(r *repo.Repo) error {
				names, err := r.Keys().List()
				if err != nil {
					return fmt.Errorf("key ls: %w", err)
				}
				self, err := ipnsName(r.Identity())
				if err != nil {
					return err
				}
				out := []keyJSON{{Name: repo.SelfKey, ID: self.String()}}
				for _, n := range names {
					if n == repo.SelfKey {
						continue
					}
					k, err := r.Keys().Get(n)
					if err != nil {
						return fmt.Errorf("key ls: %w", err)
					}
					id, err := ipnsName(k)
					if err != nil {
						return err
					}
					out = append(out, keyJSON{Name: n, ID: id.String()})
				}
				if asJSON {
					return printJSON(env.Stdout, out)
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
				for _, k := range out {
					fmt.Fprintf(tw, "%s\t%s\n", k.ID, k.Name)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the keys as JSON")
	return cmd
}

func newKeyRmCmd(env *Env, g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME...",
		Short: "Delete keys (not self); names they signed can no longer be updated",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRepo(cmd.Context(), env, g, func(r *repo.Repo) error {
				for _, name := range args {
					if name == repo.SelfKey {
						return fmt.Errorf("key rm: %q is the node's identity and cannot be removed", name)
					}
					k, err := r.Keys().Get(name)
					if errors.Is(err, repo.ErrNoSuchKey) {
						return fmt.Errorf("key rm: no key named %q (see 'island key ls')", name)
					}
					if err != nil {
						return fmt.Errorf("key rm: %w", err)
					}
					id, err := ipnsName(k)
					if err != nil {
						return err
					}
					if err := r.Keys().Delete(name); err != nil {
						return fmt.Errorf("key rm: %w", err)
					}
					fmt.Fprintf(env.Stdout, "%s\t%s\n", id, name)
				}
				return nil
			})
		},
	}
}
