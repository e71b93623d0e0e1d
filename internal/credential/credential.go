package credential

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bbimport/bbimport/internal/redact"
)

// Credential is one way of authenticating to an API. It is a value the
// HTTP stack holds and attaches to each request as it leaves; a run may
// hold several (one for Snyk, one or more for Bitbucket), each with its own
// request budget keyed by Identity. It is safe for concurrent use, and
// prints without its secret.
type Credential struct {
	kind     Kind
	name     string
	identity string
	// who is what String shows: the client id or the user.
	who string
	// header is a static credential's Authorization value.
	header string
	// expires is a static JWT's `exp`; zero when unknown.
	expires time.Time
	src     *source
}

// maxReauthorize bounds how often one request is re-authorised after the
// API refused it.
const maxReauthorize = 2

// ClientCredentials returns a credential whose access tokens are minted at
// cfg.TokenURL with the client_credentials grant and sent as Bearer. It
// makes no request until a token is needed.
func ClientCredentials(kind Kind, cfg Config) (*Credential, error) {
	src, err := newSource(kind, cfg)
	if err != nil {
		return nil, err
	}
	id := strings.TrimSpace(cfg.ClientID)
	return &Credential{kind: kind, identity: "client:" + id, who: "client id " + id, src: src}, nil
}

// Token returns a static credential sent as `Authorization: <scheme>
// <token>` ("Bearer", or Snyk's "token"). Surrounding white space is
// dropped; a token with control characters is refused (the error does not
// repeat it). Its identity is the subject of a JWT, else the token.
func Token(kind Kind, scheme, token string) (*Credential, error) {
	token = strings.TrimSpace(token)
	if err := checkSecret("Token", token); err != nil {
		return nil, err
	}
	c := &Credential{kind: kind, identity: "token:" + token, header: scheme + " " + token}
	if claims, ok := jwtClaims(token); ok {
		if claims.Sub != "" {
			c.identity, c.who = "sub:"+claims.Sub, "subject "+claims.Sub
		}
		if claims.Exp > 0 {
			c.expires = time.Unix(int64(claims.Exp), 0)
		}
	}
	return c, nil
}

// Basic returns a static credential sent as HTTP Basic user:password. Its
// identity is the user, whom the API counts requests by.
func Basic(kind Kind, user, password string) (*Credential, error) {
	user = strings.TrimSpace(user)
	if err := checkSecret("Username", user); err != nil {
		return nil, err
	}
	if err := checkSecret("Password", password); err != nil {
		return nil, err
	}
	raw := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return &Credential{kind: kind, identity: "user:" + strings.ToLower(user), who: "user " + user, header: "Basic " + raw}, nil
}

func checkSecret(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return &FieldError{Field: field, Problem: "is empty"}
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return &FieldError{Field: field, Problem: "contains control characters"}
		}
	}
	return nil
}

// Kind is what the credential is.
func (c *Credential) Kind() Kind { return c.kind }

// Named gives the credential the name its user calls it by (one of several
// Bitbucket credentials of a run), for messages: errors from its requests
// and its token exchange carry it. Call it before the credential is used.
func (c *Credential) Named(name string) *Credential {
	c.name = name
	if c.src != nil {
		c.src.name = name
	}
	return c
}

// Name is the name given by Named; empty for a run's only credential.
func (c *Credential) Name() string { return c.name }

// Identity is stable for the credential's whole life, token renewals
// included: the key its request ledger is counted under. It may hold the
// token itself (the ledger hashes it, never writes it).
func (c *Credential) Identity() string { return c.identity }

// String describes the credential without its secret.
func (c *Credential) String() string {
	s := c.kind.String() + " credential"
	if c.name != "" {
		s += " " + strconv.Quote(c.name)
	}
	if c.who != "" {
		s += " (" + c.who + ")"
	}
	return s + ", secret " + redact.Mask
}

// GoString is String, so %#v does not print the secret either.
func (c *Credential) GoString() string { return c.String() }

// Scopes exchanges for a token if needed and returns the scopes the token
// endpoint granted (nil when it did not say); minted is false for a static
// credential, which has nothing to say here.
func (c *Credential) Scopes(ctx context.Context) (scopes []string, minted bool, err error) {
	if c.src == nil {
		return nil, false, nil
	}
	scopes, err = c.src.scopes(ctx)
	return scopes, true, err
}

// Expiry is when the token in use stops working: the minted token's (zero
// before the first exchange), a static JWT's `exp`, else zero.
func (c *Credential) Expiry() time.Time {
	if c.src != nil {
		return c.src.expiry()
	}
	return c.expires
}

// Authorization is what one send of a request carries: the header value
// and, for a minted token, which token it is and until when it works.
type Authorization struct {
	cred    *Credential
	value   string
	token   string
	issued  time.Time
	expires time.Time
	// again counts the re-authorisations of this request.
	again int
}

// Authorize returns the authorization to send now: a static credential's
// value, or the current minted token (exchanging for one when due).
func (c *Credential) Authorize(ctx context.Context) (Authorization, error) {
	if c.src == nil {
		return Authorization{cred: c, value: c.header}, nil
	}
	tok, exp, err := c.src.token(ctx)
	if err != nil {
		return Authorization{}, err
	}
	return Authorization{cred: c, value: "Bearer " + tok.AccessToken, token: tok.AccessToken, issued: c.src.now(), expires: exp}, nil
}

// Reauthorize returns another authorization for a request the API refused
// (401) with refused, and whether sending it again can help: a minted
// credential hands out a token other than the refused one, the newest if
// it should outlive the time the refused send took (a retry queues about
// as long), else a fresh exchange's, shared by every request refused with
// the same token. A second re-authorisation is earned only when our clock
// says the retry's token had run out (it aged in a queue at the server):
// any other persistent 401 is final. Static credentials never help.
func (c *Credential) Reauthorize(ctx context.Context, refused Authorization) (Authorization, bool, error) {
	if c.src == nil || refused.cred != c || refused.again >= maxReauthorize {
		return Authorization{}, false, nil
	}
	now := c.src.now()
	// The API's 401 wording is not read: its expiry is computed from
	// expires_in before the exchange, so it is never later than the
	// server's, and our clock is the judge.
	if refused.again > 0 && now.Before(refused.expires.Add(-expirySkew)) {
		return Authorization{}, false, nil
	}
	tok, exp, err := c.src.tokenAfter(ctx, refused.token, now.Sub(refused.issued))
	if err != nil {
		return Authorization{}, false, err
	}
	if tok.AccessToken == refused.token {
		return Authorization{}, false, nil // the endpoint handed back the same token
	}
	return Authorization{cred: c, value: "Bearer " + tok.AccessToken, token: tok.AccessToken,
		issued: c.src.now(), expires: exp, again: refused.again + 1}, true, nil
}

type sentKey struct{}

// Attach returns a copy of req carrying the authorization (RoundTrippers
// must not modify their request). The copy's context remembers the
// credential, so an error built from the response can say which one the
// API refused ([Of]).
func (a Authorization) Attach(req *http.Request) *http.Request {
	r := req.Clone(context.WithValue(req.Context(), sentKey{}, a.cred))
	r.Header.Set("Authorization", a.value)
	return r
}

// Of returns the credential a request was sent with, or nil. Given a
// response's Request, it names the credential the API answered.
func Of(req *http.Request) *Credential {
	if req == nil {
		return nil
	}
	c, _ := req.Context().Value(sentKey{}).(*Credential)
	return c
}

// NameOf is the name of the credential resp answered (Named), "" if none.
func NameOf(resp *http.Response) string {
	if resp == nil {
		return ""
	}
	if c := Of(resp.Request); c != nil {
		return c.name
	}
	return ""
}

// KindOf is the kind of the credential resp answered, Unknown if none.
func KindOf(resp *http.Response) Kind {
	if resp == nil {
		return Unknown
	}
	if c := Of(resp.Request); c != nil {
		return c.kind
	}
	return Unknown
}

type claims struct {
	Sub string  `json:"sub"`
	Exp float64 `json:"exp"`
}

// jwtClaims reads a JWT's subject and expiry without verifying it: they
// only name the token's owner for the ledger and its lifetime for doctor.
func jwtClaims(token string) (claims, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, false
	}
	var c claims
	if json.Unmarshal(raw, &c) != nil {
		return claims{}, false
	}
	return c, true
}
