package httpx

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// notFoundTTL is how long a host name the resolver said does not exist is
// answered from memory. Long enough for one run's burst of requests to the
// same mistyped host, short enough that a name fixed in DNS is seen again
// within the minute.
const notFoundTTL = 30 * time.Second

// notFoundCache remembers host names that do not resolve, so that a run
// with a mistyped API host or proxy sends one lookup instead of one per
// request. Fifteen workers each asking the resolver at once is what a
// resolver's own rate limit drops (seen here: a dropped query costs Go's
// resolver its 5 s timeout), and the answer would be the same anyway.
type notFoundCache struct {
	mu    sync.Mutex
	hosts map[string]notFound
	now   func() time.Time
}

type notFound struct {
	err   error
	until time.Time
}

// dialer wraps dial: a dial to a host remembered as not found fails at once
// with the error the resolver gave (a *net.OpError around a *net.DNSError,
// so AsNetError classifies it as before).
func (c *notFoundCache) dialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		if err := c.lookup(host); err != nil {
			return nil, err
		}
		conn, err := dial(ctx, network, addr)
		var dnsErr *net.DNSError
		if err != nil && errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			c.remember(host, err)
		}
		return conn, err
	}
}

func (c *notFoundCache) lookup(host string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.hosts[host]
	if !ok {
		return nil
	}
	if !c.now().Before(e.until) {
		delete(c.hosts, host)
		return nil
	}
	return e.err
}

func (c *notFoundCache) remember(host string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hosts == nil {
		c.hosts = map[string]notFound{}
	}
	c.hosts[host] = notFound{err: err, until: c.now().Add(notFoundTTL)}
}
