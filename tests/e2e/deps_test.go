package e2e

// The tests run a binary built from ./cmd/stepwell; importing what it is
// made of keys `go test`'s result cache on that code, so a change to the
// server re-runs these tests instead of reusing a stale result.
import _ "github.com/stepwell/stepwell/internal/cli"
