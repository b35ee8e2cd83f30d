package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/stepwell/stepwell/api/internal/awsapi"
	"github.com/stepwell/stepwell/api/sigv4"
	"github.com/stepwell/stepwell/internal/uuid"
)

// signingService is the service in the credential scope of Step
// Functions requests.
const signingService = "states"

// Authenticated returns the Server as the network's handler: each request's
// AWS Signature Version 4 is verified against keys (in the server's region,
// on the server's clock) before it is served, and read-only keys may only
// read. It answers AWS's errors: MissingAuthenticationTokenException,
// IncompleteSignatureException, UnrecognizedClientException,
// InvalidSignatureException and AccessDeniedException. With nil keys it
// is the Server itself (no authentication).
//
// In-process callers (nested executions) call the Server directly.
func (s *Server) Authenticated(keys *sigv4.Keys) http.Handler {
	if keys == nil {
		return s
	}
	return &authenticated{s: s, v: &sigv4.Verifier{Keys: keys, Service: signingService, Region: s.scope.Region, Now: s.now}}
}

type authenticated struct {
	s *Server
	v *sigv4.Verifier
}

func (a *authenticated) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := a.s.readBody(w, r)
	if err == nil {
		var key *sigv4.Key
		if key, err = a.v.Verify(r, body, r.TLS != nil); err == nil {
			err = a.s.permitted(key, r)
		} else {
			a.s.log.Debug("request not authenticated", "remote", r.RemoteAddr, "err", err)
		}
	}
	if err != nil {
		w.Header()[requestIDHeader] = []string{uuid.New()}
		writeError(w, authErr(err))
		return
	}
	a.s.serve(w, r, body)
}

// authErr answers a verification failure with AWS's error type; other
// errors pass through.
func authErr(err error) error {
	var e *sigv4.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Kind {
	case sigv4.MissingToken:
		return awsapi.MissingAuthenticationTokenException(e.Message)
	case sigv4.Incomplete:
		return awsapi.IncompleteSignatureException(e.Message)
	case sigv4.UnknownKey:
		return awsapi.UnrecognizedClientException(e.Message)
	}
	return awsapi.InvalidSignatureException(e.Message)
}

// permitted refuses what a read-only key may not do: anything but the
// operations that only read (Describe*, List*, GetExecutionHistory,
// ValidateStateMachineDefinition), with AWS's AccessDeniedException.
func (s *Server) permitted(key *sigv4.Key, r *http.Request) error {
	if !key.ReadOnly {
		return nil
	}
	action, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if readOnly(action) || handlers[action] == nil {
		return nil // unknown operations are answered as such
	}
	return awsapi.AccessDeniedException("User: arn:" + s.scope.Partition + ":iam::" + s.scope.Account + ":user/" + key.Name +
		" is not authorized to perform: states:" + action + " because no identity-based policy allows the states:" + action + " action")
}

// readOnly tells whether an operation only reads.
func readOnly(action string) bool {
	return strings.HasPrefix(action, "Describe") || strings.HasPrefix(action, "List") ||
		action == "GetExecutionHistory" || action == "ValidateStateMachineDefinition"
}
