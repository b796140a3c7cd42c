package core_test

import (
	"testing"

	"github.com/islandsite/island/internal/core"
	"github.com/islandsite/island/internal/core/coretest"
)

func TestCore(t *testing.T) {
	coretest.Run(t, func(t *testing.T) core.API {
		c, _ := coretest.OpenCore(t)
		return c
	})
}
