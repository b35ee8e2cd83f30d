package cli

import (
	"fmt"
	"io"

	"github.com/stepwell/stepwell/internal/app"
)

// caBundleFromAWSEnv takes AWS_CA_BUNDLE, the AWS CLI's and SDKs'
// convention, as the CA bundle when STEPWELL_CA_BUNDLE does not give one
// (the --ca-bundle flag still overrides both).
func caBundleFromAWSEnv(cfg *app.Config, getenv func(string) (string, bool)) {
	if cfg.CABundle != "" {
		return
	}
	if v, ok := getenv("AWS_CA_BUNDLE"); ok {
		cfg.CABundle = v
	}
}

// printSecurity prints the security settings for --check-config (when
// any is set): file paths only, never what the files hold.
func printSecurity(w io.Writer, s app.Security) {
	if s == (app.Security{}) {
		return
	}
	auth := s.Auth // the effective mode
	if auth == app.AuthAuto && s.Credentials != "" {
		auth = app.AuthSigV4
	} else if auth == app.AuthAuto {
		auth = "none (loopback only)"
	}
	fmt.Fprintf(w, "auth=%s credentials=%s tls-cert=%s tls-key=%s ca-bundle=%s\n", auth, s.Credentials, s.TLSCert, s.TLSKey, s.CABundle)
}
