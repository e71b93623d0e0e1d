package snyk

import "net/http"

// Transport returns a RoundTripper that sends the Snyk credential on every
// request (`Authorization: token <t>` for SNYK_TOKEN, `Bearer <t>` for
// SNYK_OAUTH_TOKEN) and then hands it to base (nil: http.DefaultTransport).
// It is for the HTTP stack's Auth layer (httpx Options.Auth), below the
// limiter and the retries, so a request is authorised when it leaves, not
// when it was built; give the same credential to [WithTransportCredential].
// The request is cloned, as the RoundTripper contract asks.
func Transport(token string, oauth bool, base http.RoundTripper) http.RoundTripper {
	scheme := "token"
	if oauth {
		scheme = "Bearer"
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &authTransport{header: scheme + " " + token, base: base}
}

type authTransport struct {
	header string
	base   http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", t.header)
	return t.base.RoundTrip(req)
}

// WithTransportCredential tells the client that the *http.Client given with
// [WithHTTPClient] already sends the credential ([Transport]): the client
// still needs the token, to refuse a blank one and to scrub it from error
// texts, but adds no transport of its own.
func WithTransportCredential(token string, oauth bool) Option {
	return func(c *Client) error {
		opt := WithToken(token)
		if oauth {
			opt = WithOAuthToken(token)
		}
		if err := opt(c); err != nil {
			return err
		}
		c.authInTransport = true
		return nil
	}
}
