package cli

import (
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

// effectiveAuth is the authentication mode the server will use, for
// --check-config: sigv4 when credentials are given and no mode is.
func effectiveAuth(c *app.Config) string {
	switch {
	case c.Auth != app.AuthAuto:
		return c.Auth
	case c.Credentials != "":
		return app.AuthSigV4
	}
	return "none (loopback only)"
}
