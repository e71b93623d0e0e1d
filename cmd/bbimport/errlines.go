package main

import (
	"fmt"

	"github.com/bbimport/bbimport/pkg/importer"
)

// causeGroup is the items that failed with one cause, and the first error.
type causeGroup[T any] struct {
	err   error
	items []T
}

// groupByCause groups failed items by cause, in the order causes first
// appear, so that one cause is said once however many items it hit: a
// rejected token fails every org of a group the same way. scope keeps
// apart the causes that must stay apart (one group's 404 from another's).
func groupByCause[T any](items []T, failure func(T) (scope string, err error)) []causeGroup[T] {
	var out []causeGroup[T]
	index := map[string]int{}
	for _, it := range items {
		scope, err := failure(it)
		if err == nil {
			continue
		}
		key := scope + "\x00" + causeKey(err) + "\x00" + importer.MessageClass(err.Error())
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, causeGroup[T]{err: err})
		}
		out[i].items = append(out[i].items, it)
	}
	return out
}

func quoteEach(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}
