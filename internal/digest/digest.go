// Package digest names the hash algorithms AWS's hash functions take
// (States.Hash in JSONPath, $hash in JSONata): one list for both.
package digest

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// New returns a hash for algorithm, one of MD5, SHA-1, SHA-256, SHA-384
// and SHA-512 (AWS's spellings); false for any other name.
func New(algorithm string) (hash.Hash, bool) {
	switch algorithm {
	case "MD5":
		return md5.New(), true
	case "SHA-1":
		return sha1.New(), true
	case "SHA-256":
		return sha256.New(), true
	case "SHA-384":
		return sha512.New384(), true
	case "SHA-512":
		return sha512.New(), true
	}
	return nil, false
}
