package memory_test

import (
	"testing"

	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/memory"
	"github.com/stepwell/stepwell/store/storetest"
)

func TestVersions(t *testing.T) {
	storetest.RunVersions(t, func(t *testing.T) store.Versions { return memory.NewVersions() })
}
