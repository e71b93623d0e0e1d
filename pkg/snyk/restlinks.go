package snyk

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/bbimport/bbimport/internal/redact"
)

// restLink is one JSON:API link of a Snyk REST answer. Snyk's REST OpenAPI
// defines LinkProperty as either a string (a URL, usually relative to the
// REST base: "/orgs/…") or an object {href, meta}; both are accepted, and
// null or a missing link is "". Every REST page decoder uses it so a change
// of form on one endpoint cannot break a listing.
type restLink string

// UnmarshalJSON accepts a string, an object with `href`, or null.
func (l *restLink) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*l = ""
		return nil
	case len(b) > 0 && b[0] == '{':
		var o struct {
			Href *string `json:"href"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*l = ""
		if o.Href != nil {
			*l = restLink(*o.Href)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("snyk: a REST link is neither a string nor an object {href, meta}: %s", truncate(b, 80))
	}
	*l = restLink(s)
	return nil
}

// restLinks is the top-level `links` of a REST page (PaginatedLinks).
type restLinks struct {
	Self  restLink `json:"self"`
	Next  restLink `json:"next"`
	Prev  restLink `json:"prev"`
	First restLink `json:"first"`
	Last  restLink `json:"last"`
}

// restLimit rounds a page size to the nearest `limit` REST accepts: Snyk's
// REST OpenAPI declares it with minimum 10, maximum 100 and multipleOf 10,
// and answers 400 otherwise. Every REST listing sends its limit through it.
func restLimit(n int) int {
	n = (n + 5) / 10 * 10
	return min(max(n, 10), 100)
}

func truncate(b []byte, n int) string { return redact.Cut(string(b), n) }
