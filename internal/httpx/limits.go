package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
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

// The memory of all the bodies in flight is bounded too, not only each:
// 50 import workers each given a 32 MiB poll answer held 1.94 GB. Every
// body reads its first SmallBody bytes freely (a real answer is tens of
// KiB, so the happy path never waits); past that a body holds one of
// BodyMemory/MaxResponseBody places until it is closed, and waits for one
// (or for its request's end) when all are taken. A body holding a place can
// always finish, so the wait cannot deadlock: past the small part, bodies
// are read two at a time.
const (
	SmallBody  = 1 << 20
	BodyMemory = 2 * MaxResponseBody
)

var largeBodies = make(chan struct{}, BodyMemory/MaxResponseBody)

// budgetBody is LimitBody counted in the process's body memory, waiting
// under ctx.
func budgetBody(ctx context.Context, body io.ReadCloser) io.ReadCloser {
	return &limitedBody{rc: body, left: MaxResponseBody, ctx: ctx}
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	// ctx is set when the body counts in the body memory; large says it
	// holds one of largeBodies' places (atomic: a body may be closed while
	// another goroutine reads it).
	ctx   context.Context
	large atomic.Bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.ctx != nil && !b.large.Load() {
		read := MaxResponseBody - b.left
		switch free := SmallBody - read; {
		case free <= 0:
			select {
			case largeBodies <- struct{}{}:
				b.large.Store(true)
			case <-b.ctx.Done():
				return 0, b.ctx.Err()
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

func (b *limitedBody) Close() error {
	b.release()()
	return b.rc.Close()
}

// release hands the body's place in the body memory over to the caller,
// who must call the result (once) when the bytes read are let go.
func (b *limitedBody) release() func() {
	if !b.large.CompareAndSwap(true, false) {
		return func() {}
	}
	return func() { <-largeBodies }
}

// heldBody is a body read whole, keeping its place in the body memory
// until closed.
type heldBody struct {
	io.Reader
	done func()
	once sync.Once
}

func (b *heldBody) Close() error {
	b.once.Do(b.done)
	return nil
}

// failedBody is a body whose every read fails with err: what a response
// too large to keep is left with, so its decoder reports the reason.
type failedBody struct{ err error }

func (b failedBody) Read([]byte) (int, error) { return 0, b.err }
func (failedBody) Close() error               { return nil }

// IsResponseTooLarge reports whether err comes from a body over
// MaxResponseBody.
func IsResponseTooLarge(err error) bool { return errors.Is(err, ErrResponseTooLarge) }
