package importer

import (
	"context"
	"math"
	"sync"
)

// boundedEach runs fn for 0..n-1 with at most limit at once: the one
// bounded worker pool of orgs:data, import:data and list:imported. Nothing
// new starts once ctx is done. The first error cancels the others' context
// and is returned (context errors of the cancelled ones are not); an fn that
// records its failure and returns nil lets the others run on.
func boundedEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	return BoundedEach(ctx, n, func() int { return limit }, fn)
}

// BoundedEach is boundedEach with a bound read again whenever a run of fn
// ends, so a stage sized by what it learns as it goes (OrgsAtOnce: the
// latency its first requests met) widens or narrows while it runs.
func BoundedEach(ctx context.Context, n int, limit func() int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu      sync.Mutex
		running int
		ended   = make(chan struct{}, 1)
		wg      sync.WaitGroup
	)
loop:
	for i := range n {
		for {
			mu.Lock()
			ok := running < max(limit(), 1)
			if ok {
				running++
			}
			mu.Unlock()
			if ok {
				break
			}
			select {
			case <-ended:
			case <-ctx.Done():
				break loop
			}
		}
		wg.Go(func() {
			defer func() {
				mu.Lock()
				running--
				mu.Unlock()
				select {
				case ended <- struct{}{}:
				default:
				}
			}()
			if ctx.Err() != nil {
				return
			}
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// Bounds of OrgsAtOnce.
const (
	minOrgsAtOnce     = 4
	maxOrgsAtOnce     = 50
	defaultOrgsAtOnce = 8
)

// OrgsAtOnce is how many orgs a stage works on at once (orgs:create,
// list:imported, sync): enough requests in flight to spend the Snyk budget
// as fast as it allows (its room now spread over an eighth of its window,
// or its limit's own pace if faster) at the latency its answers take,
// twice over, as an org's requests mostly go one after another; within
// 4..50, and 8 while no answer has come yet. A budget without a limit
// allows the most.
func OrgsAtOnce(s Snyk) int {
	b, ok := s.(budgeted)
	if !ok {
		return defaultOrgsAtOnce
	}
	l := b.Load()
	switch {
	case l.Latency <= 0:
		return defaultOrgsAtOnce
	case l.Limit <= 0 || l.Window <= 0:
		return maxOrgsAtOnce
	}
	w := l.Window.Seconds()
	rate := max(float64(l.Limit)/w, float64(l.Limit-l.Used)/(w/8))
	n := int(math.Ceil(2 * rate * l.Latency.Seconds()))
	return min(max(n, minOrgsAtOnce), maxOrgsAtOnce)
}
