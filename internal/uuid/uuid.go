// Package uuid makes random (version 4) UUIDs, the form of AWS request ids
// and of the revision ids and Express execution ids Stepwell picks, and
// time-ordered (version 7) ones, the names it picks for executions.
package uuid

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"time"
)

// New returns a random (version 4, RFC 9562) UUID in its 36-character
// lowercase text form.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return format(&b)
}

// Ordered returns a time-ordered (version 7, RFC 9562) UUID made at t in
// its 36-character lowercase text form: its first 48 bits are t's Unix
// time in milliseconds, the other 74 random, so that one made in a later
// millisecond sorts after, as text too. The names Stepwell picks for
// executions take this form (AWS's are random UUIDs; both are UUIDs): an
// index of them, as the embedded store keeps by execution ARN, then grows
// at its end instead of at random places, where each execution created
// rewrites a page of its own (BenchmarkStoreExecutions/uuid4 against
// /uuid7).
func Ordered(t time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[6:]) // never fails (crypto/rand)
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return format(&b)
}

// Name returns the name-based (version 5, SHA-1, RFC 9562) UUID of s
// (with no namespace: the same s always gives the same UUID).
func Name(s string) string {
	h := sha1.Sum([]byte(s))
	var b [16]byte
	copy(b[:], h[:16])
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return format(&b)
}

// format writes b in the 36-character text form.
func format(b *[16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
