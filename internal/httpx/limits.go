package httpx

import (
	"errors"
	"fmt"
	"io"
)

// MaxResponseBody bounds every response body, of both APIs, success or
// error: the largest real page is tens of KiB, so 32 MiB is only ever
// reached by a broken or hostile server, which must not be able to grow
// memory without end (a 3 GB Snyk listing reached 7 GB RSS before).
const MaxResponseBody = 32 << 20

// MaxPages bounds how many pages one listing follows. No real Bitbucket
// workspace or Snyk org comes near it (100 items a page: ten million
// repositories or projects), so reaching it means a server sending a new
// `next` link forever.
const MaxPages = 100_000

// ErrResponseTooLarge is what reading a body past MaxResponseBody returns,
// so the person sees why (not "unexpected EOF" from a silently cut body).
var ErrResponseTooLarge = fmt.Errorf("response over %d MiB", MaxResponseBody>>20)

// LimitBody returns body bounded by MaxResponseBody: reads past the limit
// fail with ErrResponseTooLarge. Wrapping an already limited body again is
// harmless, so a client can apply it to whatever *http.Client it was given.
func LimitBody(body io.ReadCloser) io.ReadCloser {
	if body == nil {
		return nil
	}
	if _, ok := body.(*limitedBody); ok {
		return body
	}
	return &limitedBody{rc: body, left: MaxResponseBody}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.counted() {
		read := MaxResponseBody - b.left
		switch free := SmallBody - read; {
		case free <= 0:
			if err := b.takePlace(); err != nil {
				return 0, err
			}
		case int64(len(p)) > free:
			p = p[:free]
		}
	}
	if b.left <= 0 {
		// At the limit: one more byte tells a body of exactly the limit
		// (EOF) from a longer one.
		var probe [1]byte
		n, err := b.rc.Read(probe[:])
		if n > 0 {
			return 0, ErrResponseTooLarge
		}
		if err == nil {
			return 0, nil
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

// failedBody is a body whose every read fails with err: what a response
// too large to keep is left with, so its decoder reports the reason.
type failedBody struct{ err error }

func (b failedBody) Read([]byte) (int, error) { return 0, b.err }
func (failedBody) Close() error               { return nil }

// IsResponseTooLarge reports whether err comes from a body over
// MaxResponseBody.
func IsResponseTooLarge(err error) bool { return errors.Is(err, ErrResponseTooLarge) }
