package cidtext

import (
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	c, err := cid.Decode("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")
	require.NoError(t, err)
	tests := []struct {
		name    string
		c       cid.Cid
		text    string
		wantErr bool
	}{
		{"defined", c, c.String(), false},
		{"undefined", cid.Undef, "", false},
		{"not a CID", cid.Undef, "nope", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.text)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.c, got)
			require.Equal(t, tt.text, Format(tt.c))
		})
	}
}
