package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service/apierr"
)

// NetworkPolicy says which URLs the gateway may send webhooks to.
// An admin who can create an endpoint must not be able to make the gateway
// POST into its own network (cloud metadata, the database, an internal admin
// page): that is server-side request forgery.
type NetworkPolicy struct {
	// AllowHTTP permits plain http:// URLs (a local CRM, tests).
	AllowHTTP bool
	// AllowPrivateNetworks permits loopback, private and other non-public
	// addresses, but never link-local or cloud metadata ones.
	AllowPrivateNetworks bool
	// AllowedHosts names internal hosts (a CRM on the LAN) whose private
	// addresses are admitted without opening every private network; the
	// names are matched case-insensitively, and link-local and cloud
	// metadata addresses stay refused.
	AllowedHosts []string
}

// allowsHost reports whether host is one the policy names.
func (p NetworkPolicy) allowsHost(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	for _, h := range p.AllowedHosts {
		if strings.EqualFold(strings.TrimSuffix(h, "."), host) {
			return true
		}
	}
	return false
}

// refuses names why the policy refuses ip reached through host, or "".
func (p NetworkPolicy) refuses(host string, ip netip.Addr) string {
	if r := neverAllowed(ip); r != "" {
		return r
	}
	if p.AllowPrivateNetworks || p.allowsHost(host) {
		return ""
	}
	return nonPublic(ip)
}

// Cloud metadata services: they hand out the machine's credentials, so no
// setting opens them. Most live on link-local addresses (refused as such);
// these are the ones that do not, and the link-local ones named for the
// message.
var (
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, Oracle, OpenStack, Huawei
		netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
		netip.MustParseAddr("169.254.0.23"),    // Tencent Cloud
		netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
		netip.MustParseAddr("168.63.129.16"),   // Azure WireServer
		netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
	}
	metadataHosts = []string{"metadata.google.internal", "metadata.tencentyun.com", "metadata.azure.com", "instance-data.ec2.internal"}
)

// neverAllowed names why ip is refused whatever the policy: a cloud metadata
// address, or link-local (where metadata services live), also when embedded
// in a NAT64 or 6to4 address.
func neverAllowed(ip netip.Addr) string {
	ip = ip.Unmap()
	for _, m := range metadataAddrs {
		if ip == m {
			return "cloud metadata"
		}
	}
	if ip.IsLinkLocalUnicast() {
		return "link-local"
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return neverAllowed(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return neverAllowed(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return ""
}

var (
	cgnat      = netip.MustParsePrefix("100.64.0.0/10")
	thisNet    = netip.MustParsePrefix("0.0.0.0/8")
	ietf       = netip.MustParsePrefix("192.0.0.0/24")
	benchmark  = netip.MustParsePrefix("198.18.0.0/15")
	reserved   = netip.MustParsePrefix("240.0.0.0/4")
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	docs4      = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	siteLocal6 = netip.MustParsePrefix("fec0::/10")
)

// nonPublic names why ip is not a public unicast address, or returns "".
func nonPublic(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.IsUnspecified():
		return "unspecified"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(ip):
		return "shared address space"
	case thisNet.Contains(ip), ietf.Contains(ip), benchmark.Contains(ip), reserved.Contains(ip), siteLocal6.Contains(ip):
		return "reserved"
	case ip.Is4() && ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	for _, p := range docs4 {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	// Addresses that embed an IPv4 address reach that address through a
	// translator: judge the embedded one.
	if nat64.Contains(ip) {
		b := ip.As16()
		if r := nonPublic(netip.AddrFrom4([4]byte(b[12:16]))); r != "" {
			return r + " (NAT64)"
		}
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		if r := nonPublic(netip.AddrFrom4([4]byte(b[2:6]))); r != "" {
			return r + " (6to4)"
		}
	}
	return ""
}

// CheckURL validates an endpoint URL against the policy and, unless
// private networks are allowed, resolves its host and refuses it when any
// address is not public. The check is repeated on every connection (see
// dialControl), because DNS can change after the endpoint was saved.
func CheckURL(ctx context.Context, p NetworkPolicy, raw string) error {
	bad := func(format string, args ...any) error {
		return &apierr.ValidationError{Field: "url", Reason: fmt.Sprintf(format, args...)}
	}
	if raw == "" {
		return bad("is required")
	}
	if len(raw) > 2048 {
		return bad("must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("must be an absolute https URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowHTTP {
			return bad("must use https (plain http is allowed only when webhooks.allow_http is set)")
		}
	default:
		return bad("must use https, got %q", u.Scheme)
	}
	if u.User != nil {
		return bad("must not carry credentials; the receiver verifies the signature instead")
	}
	if u.Fragment != "" {
		return bad("must not have a #fragment")
	}
	host := u.Hostname()
	why := func(r string) string {
		if r == "link-local" || r == "cloud metadata" {
			return "never allowed"
		}
		return "allowed only for a host named in webhooks.allowed_hosts, or with webhooks.allow_private_networks"
	}
	for _, m := range metadataHosts {
		if strings.EqualFold(strings.TrimSuffix(host, "."), m) {
			return bad("names a cloud metadata service; never allowed")
		}
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		if r := p.refuses(host, ip); r != "" {
			return bad("points to a %s address (%s); %s", r, ip, why(r))
		}
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		if p.AllowPrivateNetworks || p.allowsHost(host) {
			return nil // an internal name this host cannot resolve now; every connection is checked
		}
		return bad("host %q does not resolve", host)
	}
	for _, ip := range addrs {
		if r := p.refuses(host, ip); r != "" {
			return bad("host %q resolves to a %s address (%s); %s", host, r, ip.Unmap(), why(r))
		}
	}
	return nil
}

// errRefusedAddress marks a connection the policy refused.
var errRefusedAddress = errors.New("refused address")

// Client sends webhooks: no proxy from the environment (the policy
// must see the real peer), every dialled address checked against the policy,
// redirects returned as they are (a redirect is a failed attempt: following
// it would let a public URL bounce the request into a private network), and
// one deadline for the whole exchange.
type Client struct {
	Policy atomic.Pointer[NetworkPolicy]
	http   *http.Client
	clock  clock.Clock // measures latencies
}

func NewClient(p NetworkPolicy, timeout time.Duration, conns int, clk clock.Clock) *Client {
	c := &Client{clock: clk}
	c.Policy.Store(&p)
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, ControlContext: c.dialControl}
	tr := &http.Transport{
		Proxy: nil,
		// The host named in the URL rides along to the address check, so
		// an allowed internal host's private addresses pass.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			return dialer.DialContext(context.WithValue(ctx, dialHostKey{}, host), network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(conns*4, 64),
		MaxIdleConnsPerHost:   max(conns, 2),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c.http = &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// dialHostKey carries the dialled host name to dialControl.
type dialHostKey struct{}

func (c *Client) dialControl(ctx context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errRefusedAddress, address)
	}
	host, _ := ctx.Value(dialHostKey{}).(string)
	if r := c.Policy.Load().refuses(host, ap.Addr()); r != "" {
		return fmt.Errorf("%w: %s is a %s address", errRefusedAddress, ap.Addr().Unmap(), r)
	}
	return nil
}

// schemeAllowed re-checks the scheme at send time: the policy may have been
// tightened since the endpoint was saved.
func (c *Client) schemeAllowed(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme == "https" || (u.Scheme == "http" && c.Policy.Load().AllowHTTP) {
		return nil
	}
	return fmt.Errorf("%w: scheme %q is not allowed", errRefusedAddress, u.Scheme)
}
