package store

import (
	"slices"
	"strconv"
	"strings"
)

// PageToken is the page token backends hand out: kind (which listing it
// belongs to) and the position to continue after.
func PageToken(kind string, n int64) string {
	return kind + "." + strconv.FormatInt(n, 36)
}

// ParsePageToken reads a token made by PageToken for the same kind; the
// empty token is position 0. Anything else is ErrInvalidToken.
func ParsePageToken(tok, kind string) (int64, error) {
	if tok == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(tok, kind+".")
	if !ok {
		return 0, ErrInvalidToken
	}
	n, err := strconv.ParseInt(rest, 36, 64)
	if err != nil || n < 0 {
		return 0, ErrInvalidToken
	}
	return n, nil
}

// MergeTags adds tags to cur in a fresh slice (never nil): an existing key
// gets the new value in place, a new key is appended, in order.
func MergeTags(cur, tags []Tag) []Tag {
	out := slices.Clone(cur)
	if out == nil {
		out = []Tag{}
	}
	for _, t := range tags {
		if i := slices.IndexFunc(out, func(x Tag) bool { return x.Key == t.Key }); i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}
