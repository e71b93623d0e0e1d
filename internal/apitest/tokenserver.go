package apitest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
)

// Test client credentials of TokenServer.
const (
	TokenClientID     = "consumer-key"
	TokenClientSecret = "cs-VERY-secret-0123456789"
	// TokenPrefix starts every token a TokenServer issues: TokenPrefix + "1",
	// + "2", ...
	TokenPrefix = "at-VERY-secret-"
)

// TokenServer is a fake OAuth 2.0 token endpoint for client_credentials.
// It checks that the client id and secret come as HTTP Basic (or in the
// form, with InForm) and issues TokenPrefix + N. Set the fields before the
// first request.
type TokenServer struct {
	URL       string
	Exchanges atomic.Int64
	issued    sync.Map // access token → time.Time

	ExpiresIn int           // seconds; 0 leaves expires_in out
	SameToken bool          // always issue the same token
	Scopes    string        // the `scopes` field
	InForm    bool          // expect the id and secret in the form
	FirstWait time.Duration // delay of the first exchange
	Started   chan struct{} // receives when an exchange starts, if non-nil
	ErrStatus int           // when non-zero, answer with ErrBody
	ErrBody   string
}

// NewTokenServer starts a TokenServer (expires_in 3600, scopes "account
// repository") configured by configure, closed when the test ends.
func NewTokenServer(t *testing.T, configure func(*TokenServer)) *TokenServer {
	t.Helper()
	ts := &TokenServer{ExpiresIn: 3600, Scopes: "account repository"}
	if configure != nil {
		configure(ts)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := ts.Exchanges.Add(1)
		if ts.Started != nil {
			ts.Started <- struct{}{}
		}
		if err := ts.check(r); err != nil {
			t.Errorf("token request: %v", err)
		}
		if n == 1 && ts.FirstWait > 0 {
			select {
			case <-time.After(ts.FirstWait):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		if ts.ErrStatus != 0 {
			w.WriteHeader(ts.ErrStatus)
			_, _ = w.Write([]byte(ts.ErrBody))
			return
		}
		tok := fmt.Sprintf("%s%d", TokenPrefix, n)
		if ts.SameToken {
			tok = TokenPrefix + "same"
		}
		ts.issued.Store(tok, time.Now())
		body := map[string]any{"access_token": tok, "token_type": "bearer", "scopes": ts.Scopes, "state": "client_credentials"}
		if ts.ExpiresIn > 0 {
			body["expires_in"] = ts.ExpiresIn
		}
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	ts.URL = srv.URL + "/site/oauth2/access_token"
	return ts
}

func (ts *TokenServer) check(r *http.Request) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("method %s, want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		return fmt.Errorf("grant_type %q", g)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(TokenClientID+":"+TokenClientSecret))
	if ts.InForm {
		if r.Header.Get("Authorization") != "" || r.PostForm.Get("client_id") != TokenClientID || r.PostForm.Get("client_secret") != TokenClientSecret {
			return fmt.Errorf("want the client id and secret in the form only")
		}
		return nil
	}
	if r.Header.Get("Authorization") != basic || len(r.PostForm) != 1 {
		return fmt.Errorf("want the client id and secret as HTTP Basic and only grant_type in the form, got form %v", r.PostForm)
	}
	return nil
}

// Consumer is a Bitbucket consumer minting its tokens at ts (its id and
// secret in the form when ts.InForm), on the clock now (nil: time.Now).
func (ts *TokenServer) Consumer(t testing.TB, now func() time.Time) *credential.Credential {
	t.Helper()
	c, err := credential.ClientCredentials(credential.BitbucketConsumer, credential.Config{
		ClientID: TokenClientID, ClientSecret: TokenClientSecret, TokenURL: ts.URL, Now: now, InForm: ts.InForm})
	if err != nil {
		t.Fatalf("ClientCredentials: %v", err)
	}
	return c
}

// IssuedAt is when tok was issued, and whether this server issued it.
func (ts *TokenServer) IssuedAt(tok string) (time.Time, bool) {
	v, ok := ts.issued.Load(tok)
	if !ok {
		return time.Time{}, false
	}
	return v.(time.Time), true
}
