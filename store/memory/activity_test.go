package memory

import (
	"testing"

	"github.com/stepwell/stepwell/store"
	"github.com/stepwell/stepwell/store/storetest"
)

func TestActivities(t *testing.T) {
	storetest.RunActivities(t, func(t *testing.T) store.ActivityStore { return NewActivities() })
}
