package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/stepwell/stepwell/store"
)

// Page tokens. The stores hand out tokens that say where a listing stops
// ("x.1k"); the API seals them before they leave, as AWS's nextToken is:
// opaque, bound to the listing that handed it out (the operation and the
// members that choose what is listed: a machine, a status filter, an
// order), and valid for 24 hours. A token of another listing, altered,
// or expired is InvalidToken.
//
// A sealed token is base64url(version | issued (Unix seconds, 8 bytes) |
// MAC (16 bytes) | the store's token), the MAC an HMAC-SHA256 of the
// listing, the issue time and the store's token under the server's page
// key.

const (
	pageTokenVersion = 1
	pageTokenMACLen  = 16
	pageTokenHeader  = 1 + 8 + pageTokenMACLen
	// pageTokenTTL is how long a page token stays valid, as AWS's.
	pageTokenTTL = 24 * time.Hour
)

// newPageKey returns a random page key, for a server given none: its
// tokens end with the process.
func newPageKey() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	return k
}

// listing names a listing for its page tokens: the operation and the
// members that choose what it lists.
func listing(op string, members ...string) string {
	return op + "\x00" + strings.Join(members, "\x00")
}

// page returns the store page a request asks for: maxResults, and the
// store's token sealed in nextToken, which must be one this listing
// handed out less than 24 hours ago.
func (s *Server) page(list string, maxResults *int64, nextToken *string) (store.Page, error) {
	p := store.Page{Limit: pageSize(maxResults)}
	if nextToken == nil || *nextToken == "" {
		return p, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*nextToken)
	if err != nil || len(raw) <= pageTokenHeader || raw[0] != pageTokenVersion {
		return p, errInvalidToken()
	}
	issued := int64(binary.BigEndian.Uint64(raw[1:9]))
	if !hmac.Equal(raw[9:pageTokenHeader], s.pageMAC(list, raw[1:9], raw[pageTokenHeader:])) {
		return p, errInvalidToken()
	}
	if age := s.now().Sub(time.Unix(issued, 0)); age > pageTokenTTL || age < -time.Hour {
		return p, errInvalidToken()
	}
	p.Token = string(raw[pageTokenHeader:])
	return p, nil
}

// nextToken seals the store's token of the next page of a listing ("":
// no next page).
func (s *Server) nextToken(list, next string) string {
	if next == "" {
		return ""
	}
	raw := make([]byte, pageTokenHeader, pageTokenHeader+len(next))
	raw[0] = pageTokenVersion
	binary.BigEndian.PutUint64(raw[1:9], uint64(s.now().Unix()))
	copy(raw[9:pageTokenHeader], s.pageMAC(list, raw[1:9], []byte(next)))
	raw = append(raw, next...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func (s *Server) pageMAC(list string, issued, token []byte) []byte {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write([]byte(list))
	m.Write([]byte{0})
	m.Write(issued)
	m.Write(token)
	return m.Sum(nil)[:pageTokenMACLen]
}
