//go:build !unix

package sqlite

import (
	"fmt"
	"os"
)

// lockFile opens path; on this platform no lock is taken, and running two
// processes on one store is the operator's responsibility.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	return f, nil
}
