package cause

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bbimport/bbimport/pkg/bitbucket"
	"github.com/bbimport/bbimport/pkg/importer"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// Group is the items that failed with one cause, and the first error.
type Group[T any] struct {
	Err   error
	Items []T
}

// GroupBy groups failed items by cause, in the order causes first appear.
// scope keeps apart the causes that must stay apart (one group's 404 from
// another's); an item whose err is nil did not fail.
func GroupBy[T any](items []T, failure func(T) (scope string, err error)) []Group[T] {
	var out []Group[T]
	index := map[string]int{}
	for _, it := range items {
		scope, err := failure(it)
		if err == nil {
			continue
		}
		key := scope + "\x00" + Key(err) + "\x00" + importer.MessageClass(err.Error())
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, Group[T]{Err: err})
		}
		out[i].Items = append(out[i].Items, it)
	}
	return out
}

// Key is what errors with the same cause share whatever workspace or org
// they were about.
func Key(err error) string {
	var (
		be *bitbucket.ErrorResponse
		se *snyk.ErrorResponse
	)
	switch {
	case errors.As(err, &be):
		return fmt.Sprintf("bitbucket %d %s", be.HTTPStatus(), strings.Join(be.RequiredScopes, ","))
	case errors.As(err, &se):
		return fmt.Sprintf("snyk %d", se.StatusCode)
	}
	return err.Error()
}
