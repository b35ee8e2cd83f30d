package store

import "context"

// KeyStore keeps the secret key that signs task tokens, so that the tokens
// of tasks still open when the server stops stay valid after it restarts.
// A durable backend implements it next to Store.
type KeyStore interface {
	// TaskTokenKey returns the stored key. When none is stored yet it
	// stores fresh (random bytes the caller made) and returns it; once
	// stored, the key never changes.
	TaskTokenKey(ctx context.Context, fresh []byte) ([]byte, error)
}
