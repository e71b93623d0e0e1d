package importer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"

	"github.com/bbimport/bbimport/internal/httpx"
)

// ProbeKickOffs is how many imports a run sends before Snyk has accepted
// one of them. When they all fail alike (the same 4xx, or the API cannot
// be reached), the set-up is wrong, not the targets: the run stops there
// (SystematicError) instead of sending every target to be refused the same
// way, and says so as a failure, not as a partial run the next night
// retries in vain.
const ProbeKickOffs = 5

// kickOffGate holds the kick-offs of a run back to ProbeKickOffs until Snyk
// accepts one, or the failures differ, or one is of a kind a target can
// cause by itself (a 5xx, 429, 401/403, which have their own handling).
type kickOffGate struct {
	mu      sync.Mutex
	open    chan struct{} // closed: send freely
	stop    chan struct{} // closed: the probes failed alike, send nothing more
	decided bool
	started int
	failed  int
	cause   string
	first   error
	example string
}

func newKickOffGate() *kickOffGate {
	return &kickOffGate{open: make(chan struct{}), stop: make(chan struct{})}
}

// enter reports whether a kick-off may be sent, waiting while the probes
// are out.
func (g *kickOffGate) enter(ctx context.Context) bool {
	g.mu.Lock()
	select {
	case <-g.open:
		g.mu.Unlock()
		return true
	case <-g.stop:
		g.mu.Unlock()
		return false
	default:
	}
	if g.started < ProbeKickOffs {
		g.started++
		g.mu.Unlock()
		return true
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return true
	case <-g.stop:
		return false
	case <-ctx.Done():
		return false
	}
}

// accepted: Snyk took an import, so the set-up works.
func (g *kickOffGate) accepted() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.openLocked()
}

// cancelled: a probe was not sent to the end (the run was interrupted, or
// the resume log could not be written, which stops the run). What it would
// have told is not waited for.
func (g *kickOffGate) cancelled() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.started--
	g.openLocked()
}

// failure records a kick-off Snyk did not accept, for target key.
func (g *kickOffGate) failure(key string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.decided {
		return
	}
	cause, ok := systematicCause(err)
	switch {
	case !ok, g.failed > 0 && cause != g.cause:
		g.openLocked()
		return
	case g.failed == 0:
		g.cause, g.first, g.example = cause, err, key
	}
	g.failed++
	if g.failed == ProbeKickOffs {
		g.decided = true
		close(g.stop)
	}
}

func (g *kickOffGate) openLocked() {
	if !g.decided {
		g.decided = true
		close(g.open)
	}
}

// verdict is the run's SystematicError, or nil: the probes failed alike,
// or (a run of fewer targets) every kick-off sent, at least two, did.
func (g *kickOffGate) verdict(notSent int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	stopped := false
	select {
	case <-g.stop:
		stopped = true
	default:
	}
	if !stopped && (g.decided || g.failed < 2 || g.failed != g.started) {
		return nil
	}
	return &SystematicError{Failed: g.failed, NotSent: notSent, Cause: g.cause, Example: g.example, Err: g.first}
}

// systematicCause is the cause of a kick-off failure that the set-up, not
// the target, can explain: a 4xx other than 401, 403, 408 and 429, or an
// API that cannot be reached once the retries are spent.
func systematicCause(err error) (string, bool) {
	if s := errorStatus(err); s != 0 {
		switch {
		case s < 400 || s > 499, s == http.StatusUnauthorized, s == http.StatusForbidden,
			s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
			return "", false
		}
		return errorCause(err) + ": " + messageClass(err.Error()), true
	}
	if ne, ok := httpx.AsNetError(err); ok {
		return ne.Kind.String() + " " + ne.Host, true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" && errors.Is(op.Err, syscall.ECONNREFUSED) {
		return "connection refused " + op.Addr.String(), true
	}
	return "", false
}

// SystematicError is an import run stopped because its first kick-offs all
// failed alike and Snyk accepted none: the targets left were not sent (the
// next run sends them).
type SystematicError struct {
	// Failed kick-offs, all with Cause; NotSent targets left.
	Failed, NotSent int
	Cause           string
	// Example is the first failed target's key; Err its error.
	Example string
	Err     error
}

func (e *SystematicError) Error() string {
	left := ""
	if e.NotSent > 0 {
		left = fmt.Sprintf(", so the run stopped: %s not sent (the next run sends them)", pluralWord(e.NotSent, "target was", "targets were"))
	}
	return fmt.Sprintf("Snyk accepted none of the first %s and refused each the same way%s; the first, %s: %v",
		pluralWord(e.Failed, "import", "imports"), left, e.Example, e.Err)
}

func (e *SystematicError) Unwrap() error { return e.Err }
