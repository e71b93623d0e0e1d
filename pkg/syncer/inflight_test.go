package syncer

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGate: orgs are admitted while the repositories held stay under the
// budget and the orgs running under atOnce; an org larger than the budget
// runs once nothing else does; a wait ends with its context.
func TestGate(t *testing.T) {
	many := func() int { return 100 }
	tests := []struct {
		name     string
		atOnce   func() int
		held     []int // orgs already admitted, by size
		size     int
		admitNow bool
	}{
		{"empty gate admits any size", many, nil, 5 * ReposInFlight, true},
		{"under the budget", many, []int{ReposInFlight / 2}, ReposInFlight, true},
		{"budget reached", many, []int{ReposInFlight / 2, ReposInFlight / 2}, 1, false},
		{"orgs at once reached", func() int { return 2 }, []int{1, 1}, 1, false},
		{"atOnce of 0 still admits one", func() int { return 0 }, nil, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate()
			var tickets []*ticket
			for _, n := range tt.held {
				tk, err := g.enter(context.Background(), many, n)
				if err != nil {
					t.Fatal(err)
				}
				tickets = append(tickets, tk)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := g.enter(ctx, tt.atOnce, tt.size)
			if got := err == nil; got != tt.admitNow {
				t.Fatalf("admitted = %v (err %v), want %v", got, err, tt.admitNow)
			}
			if !tt.admitNow && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the context's", err)
			}
			if tt.admitNow || len(tickets) == 0 {
				return
			}
			// One leaving makes room for the waiting org.
			admitted := make(chan error, 1)
			go func() {
				_, err := g.enter(context.Background(), tt.atOnce, tt.size)
				admitted <- err
			}()
			tickets[0].leave()
			select {
			case err := <-admitted:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("an org that left did not admit the waiting one")
			}
		})
	}
}

// TestGateListed: an org is counted as its guess until listed, then as
// listed; the orgs listed size the next guess; shrinking wakes a waiter.
func TestGateListed(t *testing.T) {
	g := newGate()
	if got := g.guess(); got != ReposInFlight/4 {
		t.Fatalf("first guess = %d, want a quarter of the budget", got)
	}
	many := func() int { return 100 }
	big, err := g.enter(context.Background(), many, ReposInFlight)
	if err != nil {
		t.Fatal(err)
	}
	admitted := make(chan error, 1)
	go func() {
		_, err := g.enter(context.Background(), many, 1)
		admitted <- err
	}()
	select {
	case <-admitted:
		t.Fatal("admitted over the budget")
	case <-time.After(20 * time.Millisecond):
	}
	big.listed(100)
	select {
	case err := <-admitted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an org listed smaller than its guess did not make room")
	}
	if got := g.guess(); got != 100 {
		t.Fatalf("guess after one org of 100 = %d, want 100", got)
	}
}
