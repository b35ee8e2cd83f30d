package app

import (
	"net/url"
	"regexp"
	"strings"
)

// secretNames are the names of URL query parameters and DSN settings
// whose values are secrets (compared in lower case).
var secretNames = map[string]bool{
	"password": true, "sslpassword": true, "passwd": true, "pass": true, "pwd": true,
	"secret": true, "token": true, "apikey": true, "api_key": true, "access_key": true, "secret_key": true,
}

// kvSecretRE finds secret settings in a key=value DSN
// ("host=db password='a b' user=x").
var kvSecretRE = regexp.MustCompile(`(?i)\b(password|sslpassword|passwd|pwd|secret|token)(\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)

// Redact hides the secrets of a URL or DSN before it is printed: the
// password of its user info, and the values of query parameters and
// key=value settings named like secrets (password, sslpassword, token,
// …), each replaced by ***.
func Redact(s string) string {
	if !strings.Contains(s, "://") {
		return kvSecretRE.ReplaceAllString(s, "$1$2***")
	}
	u, err := url.Parse(s)
	if err != nil {
		// Not a URL Go can parse: mask what looks like a password in
		// its user info and settings.
		if at := strings.LastIndex(s, "@"); at > 0 {
			scheme, rest, _ := strings.Cut(s[:at], "://")
			if user, _, ok := strings.Cut(rest, ":"); ok {
				s = scheme + "://" + user + ":***" + s[at:]
			}
		}
		return kvSecretRE.ReplaceAllString(s, "$1$2***")
	}
	_, hasPassword := u.User.Password()
	if hasPassword {
		// (url escapes '*' in user info: put a placeholder, then ***)
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, ok := strings.Cut(p, "=")
			name, err := url.QueryUnescape(k)
			if err != nil {
				name = k
			}
			if ok && secretNames[strings.ToLower(name)] {
				parts[i] = k + "=***"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	out := u.String()
	if hasPassword {
		out = strings.Replace(out, ":REDACTED@", ":***@", 1)
	}
	return out
}
