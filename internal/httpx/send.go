package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/bbimport/bbimport/internal/credential"
)

// sendTransport is the stack's one layer between the retry loop and the
// wire. Every send of a request, in this order: waits for the budget, takes
// the credential as it is at that moment, goes to the wire, is reported to
// the observer, and is read by the budget (429s, X-RateLimit-* hints). It
// sends again by itself in the two cases that are not failures for the
// retry policy to count:
//
//   - a 429: the budget has closed its gate for every worker; the request
//     waits at the gate and goes again while the run's wait for 429s
//     covers the gate (Budget.holds), else the 429 is the answer;
//   - a 401 that a minted credential can answer with a newer token
//     (credential.Reauthorize, at most twice).
//
// Each of those sends waits for, and is paid from, the budget like any
// other, so every request on the wire is counted exactly once.
type sendTransport struct {
	api    string
	budget *Budget
	cred   *credential.Credential // nil: no credentials
	scope  *url.URL               // where cred may go; nil: anywhere
	obs    Observer
	next   http.RoundTripper
}

func (t *sendTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := attemptStateFrom(ctx)
	if st == nil {
		st = &attemptState{}
	}
	if t.cred != nil && t.scope != nil && !InScope(req.URL, t.scope) {
		// Refused before the budget: nothing is sent, nothing is paid.
		err := &ScopeError{URL: req.URL.Redacted(), Scope: t.scope.Redacted()}
		closeBody(req)
		t.report(req, nil, err, time.Now(), st)
		return nil, err
	}
	var (
		auth    credential.Authorization
		reauth  bool           // the last answer was a 401 to re-authorise
		limited *http.Response // the last answer was a 429 being waited out
	)
	for {
		start := time.Now()
		if err := waitFor(req, t.budget, st); err != nil {
			t.report(req, nil, err, start, st)
			if limited != nil {
				var spent *RateLimitWaitError
				if ctx.Err() == nil && (errors.Is(err, errSlotAfterDeadline) || errors.As(err, &spent)) {
					return limited, nil // the gate opens after the deadline, or past the run's wait: the 429 is the answer
				}
				limited.Body.Close()
			}
			return nil, err
		}
		if limited != nil {
			limited.Body.Close()
			limited = nil
		}
		out, err := t.authorize(ctx, req, &auth, reauth)
		if err != nil {
			closeBody(req)
			t.report(req, nil, err, start, st)
			return nil, err
		}
		st.sent.Store(false)
		st.sends.Add(1)
		sent := time.Now()
		resp, err := t.next.RoundTrip(out)
		t.report(req, resp, err, start, st)
		if err != nil {
			return nil, err
		}
		t.budget.noteLatency(time.Since(sent))
		t.budget.observe(resp)

		reauth = false
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			if !t.budget.holds() {
				return resp, nil
			}
		case http.StatusUnauthorized:
			if t.cred == nil {
				return resp, nil
			}
			fresh, ok, err := t.cred.Reauthorize(ctx, auth)
			if err != nil {
				drain(resp)
				return nil, &credentialError{err}
			}
			if !ok {
				return resp, nil
			}
			auth, reauth = fresh, true
		default:
			return resp, nil
		}
		next, ok := rewind(req)
		if !ok {
			return resp, nil // the body cannot be sent again
		}
		req = next
		if resp.StatusCode == http.StatusTooManyRequests {
			// The answer is kept, in memory, for when the gate opens too
			// late; the connection goes back to the pool meanwhile.
			ReadErrorBody(resp)
			limited = resp
			continue
		}
		drain(resp)
	}
}

// authorize returns req as it is sent: with the credential's current
// authorization, or with auth as re-authorised after a 401.
func (t *sendTransport) authorize(ctx context.Context, req *http.Request, auth *credential.Authorization, reauth bool) (*http.Request, error) {
	if t.cred == nil {
		return req, nil
	}
	if !reauth {
		a, err := t.cred.Authorize(ctx)
		if err != nil {
			return nil, &credentialError{err}
		}
		*auth = a
	}
	return auth.Attach(req), nil
}

// report tells the observer of one send.
func (t *sendTransport) report(req *http.Request, resp *http.Response, err error, start time.Time, st *attemptState) {
	if t.obs == nil {
		return
	}
	e := Exchange{
		API:      t.api,
		Method:   req.Method,
		URL:      req.URL.Redacted(),
		Duration: time.Since(start),
		Attempt:  max(int(st.sends.Load()), 1),
		Wait:     st.budgetWait(),
		Err:      err,
	}
	if resp != nil {
		e.Status = resp.StatusCode
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			e.ErrorBody = peekBody(resp)
		}
	}
	t.obs.Exchange(e)
}

// credentialError is a failure to obtain the credential for a send (the
// token endpoint refused, or its own retries ran out): the API request is
// not retried on top of the token client's retries.
type credentialError struct{ err error }

func (e *credentialError) Error() string { return e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }

// rewind returns req ready to be sent again, with a fresh body, or false
// when its body cannot be replayed.
func rewind(req *http.Request) (*http.Request, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	r := req.WithContext(req.Context())
	r.Body = body
	return r, true
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// drain reads a little of resp's body so the connection can be reused, then
// closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
