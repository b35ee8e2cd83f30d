package sigv4

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// Key is one access key the server accepts.
type Key struct {
	// AccessKeyID names the key (the Credential's first element).
	AccessKeyID string `json:"accessKeyId"`
	// SecretAccessKey signs the requests.
	SecretAccessKey string `json:"secretAccessKey"`
	// Name says whose key it is (for logs and AccessDeniedException).
	Name string `json:"name"`
	// SessionToken, when set, must be sent as X-Amz-Security-Token with
	// every request signed with the key (temporary credentials); when
	// empty, a request that sends a token is refused, as AWS refuses a
	// long-term key with a token.
	SessionToken string `json:"sessionToken,omitempty"`
	// ReadOnly keys may only call the operations that change nothing
	// (Describe*, List*, GetExecutionHistory, ValidateStateMachineDefinition).
	ReadOnly bool `json:"readOnly,omitempty"`

	// signing caches the last signing key derived (one per day).
	signing atomic.Pointer[signingKey]
}

// signingKey is a derived signing key and the scope it signs for.
type signingKey struct {
	scope string
	key   []byte
}

// signingKey returns the key's signing key for a credential scope,
// derived once per scope (a day, in practice).
func (k *Key) signingKey(a *Authorization) []byte {
	scope := a.Scope()
	if c := k.signing.Load(); c != nil && c.scope == scope {
		return c.key
	}
	sk := SigningKey(k.SecretAccessKey, a.Date, a.Region, a.Service)
	k.signing.Store(&signingKey{scope, sk})
	return sk
}

// Keys is a set of access keys, read from a credentials file.
type Keys struct {
	byID map[string]*Key
}

// credentialsFile is the credentials file's shape.
type credentialsFile struct {
	AccessKeys []*Key `json:"accessKeys"`
}

// ParseKeys reads a credentials document:
//
//	{"accessKeys": [{"accessKeyId": "...", "secretAccessKey": "...", "name": "..."}]}
//
// Every key needs an access key ID (1 to 128 letters, digits and '_': AWS's
// alphabet, without its minimum length of 16) and a secret; IDs are unique;
// at least one key is given.
func ParseKeys(data []byte) (*Keys, error) {
	var f credentialsFile
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	if len(f.AccessKeys) == 0 {
		return nil, errors.New("credentials: no accessKeys")
	}
	ks := &Keys{byID: make(map[string]*Key, len(f.AccessKeys))}
	for i, k := range f.AccessKeys {
		if k == nil {
			return nil, fmt.Errorf("credentials: accessKeys[%d] is null", i)
		}
		if !validKeyID(k.AccessKeyID) {
			return nil, fmt.Errorf("credentials: accessKeys[%d]: accessKeyId must be 1 to 128 letters, digits or _", i)
		}
		if k.SecretAccessKey == "" {
			return nil, fmt.Errorf("credentials: accessKeys[%d] (%s): secretAccessKey is empty", i, k.AccessKeyID)
		}
		if _, dup := ks.byID[k.AccessKeyID]; dup {
			return nil, fmt.Errorf("credentials: accessKeys[%d]: accessKeyId %s is given twice", i, k.AccessKeyID)
		}
		if k.Name == "" {
			k.Name = k.AccessKeyID
		}
		ks.byID[k.AccessKeyID] = k
	}
	return ks, nil
}

// LoadKeys reads the credentials file at path (see ParseKeys).
func LoadKeys(path string) (*Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return ParseKeys(data)
}

// Len returns how many keys there are.
func (ks *Keys) Len() int { return len(ks.byID) }

// lookup returns the key with that ID, or nil.
func (ks *Keys) lookup(id string) *Key {
	if ks == nil {
		return nil
	}
	return ks.byID[id]
}

func validKeyID(id string) bool {
	if len(id) < 1 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
