package importer

import (
	"context"
	"sync"
)

// boundedEach runs fn for 0..n-1 with at most limit at once: the one
// bounded worker pool of orgs:data, import:data and list:imported. Nothing
// new starts once ctx is done. The first error cancels the others' context
// and is returned (context errors of the cancelled ones are not); an fn that
// records its failure and returns nil lets the others run on.
func boundedEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
loop:
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
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
