package importer

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

// impMsgErr is an API error with a status and a message of its own.
type impMsgErr struct {
	code int
	msg  string
}

func (e *impMsgErr) Error() string   { return "snyk: " + e.msg }
func (e *impMsgErr) HTTPStatus() int { return e.code }

// TestImportSystematic (issue 23 row 1): until Snyk accepts one import, at
// most ProbeKickOffs are sent; when they all fail with the same 4xx the run
// stops with a SystematicError naming the cause, the rest not sent and not
// logged (the next run sends them). A success, failures that differ, or a
// failure a target can cause alone (5xx, 429) lets the run go on.
func TestImportSystematic(t *testing.T) {
	notFound := &impMsgErr{404, "Integration not found"}
	for _, tt := range []struct {
		name       string
		targets    int
		fail       func(n int64) error // the nth kick-off (1-based)
		systematic bool
		sent       int
	}{
		{"every kick-off 404 alike", 40, func(int64) error { return notFound }, true, ProbeKickOffs},
		{"the first accepted", 40, func(n int64) error {
			if n == 1 {
				return nil
			}
			return notFound
		}, false, 40},
		{"failures differ", 40, func(n int64) error {
			if n == 3 {
				return &impMsgErr{400, "Bad target"}
			}
			return notFound
		}, false, 40},
		{"5xx are the target's", 40, func(int64) error { return &impMsgErr{500, "Internal error"} }, false, 40},
		{"429s are the budget's", 12, func(int64) error { return &impMsgErr{429, "Too many requests"} }, false, 12},
		{"a small run, every kick-off alike", 3, func(int64) error { return notFound }, true, 3},
		{"one target failing is that target's", 1, func(int64) error { return notFound }, false, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newImpEnv(t, impRows(tt.targets)...)
			var n atomic.Int64
			e.fake.kickOff = func(ctx context.Context, name string) error { return tt.fail(n.Add(1)) }
			opts := e.opts()
			opts.Concurrency = 15
			res, err := Import(t.Context(), opts)
			var se *SystematicError
			if got := errors.As(err, &se); got != tt.systematic {
				t.Fatalf("systematic %v, want %v: %v", got, tt.systematic, err)
			}
			if int(n.Load()) != tt.sent {
				t.Errorf("%d kick-offs sent, want %d", n.Load(), tt.sent)
			}
			if !tt.systematic {
				return
			}
			if se.Failed != tt.sent || se.NotSent != tt.targets-tt.sent || res.NotStarted != tt.targets-tt.sent ||
				!strings.Contains(err.Error(), "Integration not found") || !strings.Contains(err.Error(), "Snyk accepted none of the first") {
				t.Errorf("error %+v: %v; result %+v", se, err, res)
			}
			if !errors.Is(err, notFound) {
				t.Error("the error does not wrap Snyk's answer")
			}
		})
	}
}
