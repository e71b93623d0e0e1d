package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
)

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

// places are the large bodies' places. Each carries the buffer a body read
// whole is read into (nil until one needs it), so a run that meets large
// bodies keeps BodyMemory for them and no more: 50 bodies one after another
// each left 32 MiB of garbage, which the collector let pile up to 270 MB.
var places = func() chan []byte {
	c := make(chan []byte, BodyMemory/MaxResponseBody)
	for range cap(c) {
		c <- nil
	}
	return c
}()

// limitedBody is a body bounded by MaxResponseBody and, when ctx is set,
// counted in the body memory (waits for a place end with ctx).
type limitedBody struct {
	rc   io.ReadCloser
	left int64
	ctx  context.Context

	// mu guards the place: a body may be closed while another goroutine
	// reads it.
	mu    sync.Mutex
	held  bool
	place []byte // the place's buffer while held (nil: none made yet)
}

// budgetBody is LimitBody counted in the process's body memory, waiting
// under ctx.
func budgetBody(ctx context.Context, body io.ReadCloser) io.ReadCloser {
	return &limitedBody{rc: body, left: MaxResponseBody, ctx: ctx}
}

// counted reports whether the body still reads within its free part.
func (b *limitedBody) counted() bool {
	if b.ctx == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.held
}

// takePlace waits for a place, or for the end of the body's request; a
// body that holds one already, or is not counted, does not wait.
func (b *limitedBody) takePlace() error {
	if !b.counted() {
		return nil
	}
	select {
	case buf := <-places:
		b.mu.Lock()
		b.held, b.place = true, buf
		b.mu.Unlock()
		return nil
	case <-b.ctx.Done():
		return b.ctx.Err()
	}
}

// largeBuffer is an empty buffer of MaxResponseBody+1 bytes to read the
// body into: its place's, once it holds one.
func (b *limitedBody) largeBuffer() ([]byte, error) {
	if b.ctx == nil {
		return make([]byte, 0, MaxResponseBody+1), nil
	}
	if err := b.takePlace(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.place == nil {
		b.place = make([]byte, 0, MaxResponseBody+1)
	}
	return b.place[:0], nil
}

func (b *limitedBody) Close() error {
	b.release()()
	return b.rc.Close()
}

// release hands the body's place over to the caller, who must call the
// result (once) when the bytes read are let go: the place, and its buffer,
// go to the next large body.
func (b *limitedBody) release() func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.held {
		return func() {}
	}
	buf := b.place
	b.held, b.place = false, nil
	return func() { places <- buf }
}

// heldBody is a body read whole, keeping its place in the body memory
// until closed. Its bytes may be a place's buffer: nothing reads them after
// Close.
type heldBody struct {
	*bytes.Reader
	data []byte
	done func()
	once sync.Once
}

func (b *heldBody) Close() error {
	b.once.Do(b.done)
	return nil
}

// DecodeJSON decodes the JSON value of a response body into v. A body the
// stack read whole (GET and the like) is decoded where it lies, without the
// copy a json.Decoder makes of it (json.Unmarshal copies what it keeps);
// any other is streamed, bounded by MaxResponseBody.
func DecodeJSON(body io.Reader, v any) error {
	if hb, ok := body.(*heldBody); ok {
		return json.Unmarshal(hb.data[len(hb.data)-hb.Len():], v)
	}
	rc, ok := body.(io.ReadCloser)
	if !ok {
		rc = io.NopCloser(body)
	}
	return json.NewDecoder(LimitBody(rc)).Decode(v)
}
