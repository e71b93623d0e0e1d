package importer

import (
	"testing"
	"time"
)

// TestImportDataDefaultConcurrency: without Concurrency, import:data has
// DefaultImportDataConcurrency workspaces in flight at once, no more: a
// fresh budget is spent at the pace of latency, not of a few workers.
func TestImportDataDefaultConcurrency(t *testing.T) {
	dir := t.TempDir()
	bb, file := shardEstate(t, dir, 2*DefaultImportDataConcurrency, 1)
	bb.blockUntil = make(chan struct{})
	reached := make(chan bool, 1)
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			bb.mu.Lock()
			n := bb.inFlight
			bb.mu.Unlock()
			if n >= DefaultImportDataConcurrency {
				break
			}
			time.Sleep(time.Millisecond)
		}
		bb.mu.Lock()
		reached <- bb.inFlight >= DefaultImportDataConcurrency
		bb.mu.Unlock()
		close(bb.blockUntil)
	}()
	res, err := ImportData(t.Context(), importDataOpts(bb, nil, file, dir))
	if err != nil {
		t.Fatal(err)
	}
	if !<-reached {
		t.Errorf("fewer than %d listings were in flight at once", DefaultImportDataConcurrency)
	}
	if bb.maxInFlight != DefaultImportDataConcurrency || res.Targets != 2*DefaultImportDataConcurrency {
		t.Errorf("%d listings at once (want %d), %d targets", bb.maxInFlight, DefaultImportDataConcurrency, res.Targets)
	}
	if DefaultImportDataConcurrency > MaxConcurrency {
		t.Errorf("the default %d is above the --concurrency limit %d", DefaultImportDataConcurrency, MaxConcurrency)
	}
}
