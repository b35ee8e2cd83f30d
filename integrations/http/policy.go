package httptask

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Policy restricts the network addresses HTTP Tasks may connect to, so
// that a workflow author cannot reach what the operator keeps out of
// reach (the server's own network, a cloud metadata endpoint) nor send a
// connection's credentials there. It is checked when each connection is
// made, redirects included: a host name on the name the request gives, a
// network on the address the name resolved to, the one actually dialled
// (so that a name resolving to an allowed address at one moment and to a
// denied one the next, DNS rebinding, gains nothing).
//
// A target is refused when its name or address matches a Deny rule, or
// when there are Allow rules and it matches none of them.
type Policy struct {
	Allow, Deny []Rule
}

// Rule is one entry of a policy: a network (CIDR or one address) or a
// host name ("api.example.com"; "*.example.com" for its subdomains).
type Rule struct {
	Text    string // as given
	network netip.Prefix
	name    string // lower case; "*.x" matches the subdomains of x
}

// privateNetworks are the networks the rule "private" names: loopback,
// RFC 1918, carrier-grade NAT, link-local (cloud metadata endpoints),
// "this network", and IPv6's loopback, unique local and link-local
// ranges.
var privateNetworks = []string{
	"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "0.0.0.0/8",
	"::1/128", "fc00::/7", "fe80::/10", "::/128",
}

// ParseRules parses a comma-separated list of rules: CIDR networks
// (10.0.0.0/8, fd00::/8), addresses (169.254.169.254), host names
// (internal.example.com, *.corp.example.com), or "private" for every
// private, loopback and link-local network.
func ParseRules(list string) ([]Rule, error) {
	var out []Rule
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case strings.EqualFold(s, "private"):
			for _, n := range privateNetworks {
				out = append(out, Rule{Text: s, network: netip.MustParsePrefix(n)})
			}
		case strings.Contains(s, "/"):
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not a network (CIDR): %w", s, err)
			}
			out = append(out, Rule{Text: s, network: p.Masked()})
		default:
			if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
				out = append(out, Rule{Text: s, network: netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())})
				continue
			}
			name := strings.ToLower(strings.TrimSuffix(s, "."))
			if !validName(strings.TrimPrefix(name, "*.")) {
				return nil, fmt.Errorf("%q is neither a network, an address nor a host name", s)
			}
			out = append(out, Rule{Text: s, name: name})
		}
	}
	return out, nil
}

// validName reports whether s looks like a DNS name.
func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// matchName reports whether the rule names host (lower case).
func (r *Rule) matchName(host string) bool {
	if r.name == "" {
		return false
	}
	if suffix, ok := strings.CutPrefix(r.name, "*."); ok {
		return strings.HasSuffix(host, "."+suffix)
	}
	return host == r.name
}

// matchAddr reports whether the rule's network holds a.
func (r *Rule) matchAddr(a netip.Addr) bool {
	return r.name == "" && r.network.Contains(a.Unmap())
}

// Empty reports whether the policy restricts nothing.
func (p *Policy) Empty() bool { return p == nil || len(p.Allow)+len(p.Deny) == 0 }

// RefusedError is the error of a connection the policy refuses.
type RefusedError struct {
	Host string // the name the request gave
	Addr string // the address it resolved to ("" when refused by name)
	Rule string // the deny rule that matched ("" when no allow rule did)
}

func (e *RefusedError) Error() string {
	target := e.Host
	if e.Addr != "" && e.Addr != e.Host {
		target += " (" + e.Addr + ")"
	}
	if e.Rule != "" {
		return "the server's network policy for HTTP Tasks refuses connections to " + target + ": it matches the deny rule " + e.Rule + " (--http-task-deny)"
	}
	return "the server's network policy for HTTP Tasks refuses connections to " + target + ": it matches no allow rule (--http-task-allow)"
}

// checkName checks the host name a request gives; allowed reports whether
// an allow rule names it (its address then needs no allow rule).
func (p *Policy) checkName(host string) (allowed bool, err error) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for i := range p.Deny {
		if p.Deny[i].matchName(host) {
			return false, &RefusedError{Host: host, Rule: p.Deny[i].Text}
		}
	}
	for i := range p.Allow {
		if p.Allow[i].matchName(host) {
			return true, nil
		}
	}
	return false, nil
}

// checkAddr checks the address a connection is about to be made to.
func (p *Policy) checkAddr(host string, a netip.Addr, nameAllowed bool) error {
	for i := range p.Deny {
		if p.Deny[i].matchAddr(a) {
			return &RefusedError{Host: host, Addr: a.String(), Rule: p.Deny[i].Text}
		}
	}
	if nameAllowed || len(p.Allow) == 0 {
		return nil
	}
	for i := range p.Allow {
		if p.Allow[i].matchAddr(a) {
			return nil
		}
	}
	return &RefusedError{Host: host, Addr: a.String()}
}

// Restrict makes t dial only where the policy allows: its DialContext
// checks the name, then, in the dialer's Control function, the address
// each connection is about to be made to. It also turns t's proxy off,
// since a proxy would connect in the policy's place. An empty policy
// leaves t as it is.
func (p *Policy) Restrict(t *http.Transport) {
	if p.Empty() {
		return
	}
	t.Proxy = nil
	base := &net.Dialer{Timeout: dialTimeout, KeepAlive: dialKeepAlive}
	t.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		nameAllowed, err := p.checkName(host)
		if err != nil {
			return nil, err
		}
		d := *base
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ip, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			return p.checkAddr(host, a, nameAllowed)
		}
		return d.DialContext(ctx, network, address)
	}
}

// Dial settings, as net/http's default transport's.
const (
	dialTimeout   = 30 * time.Second
	dialKeepAlive = 30 * time.Second
)

// refused returns the policy's refusal in err, if any.
func refused(err error) (*RefusedError, bool) {
	var re *RefusedError
	ok := errors.As(err, &re)
	return re, ok
}
