// Package listing decides whether a paginated listing of either API can be
// trusted to be whole. A listing that is cut short, repeats itself or never
// ends looks like an estate in which repositories or projects disappeared,
// and sync acts on what disappeared: so every listing is checked the same
// way, and one that fails a check is an [IncompleteError], never a shorter
// list.
package listing

import (
	"fmt"
	"hash/maphash"
)

// MaxItems bounds how many items one listing yields. No real workspace or
// org comes near it (the largest seen hold tens of thousands), so reaching
// it means a server inventing items; the bound also bounds the memory of a
// caller that keeps what it lists.
const MaxItems = 250_000

// Reason says why a listing is incomplete.
type Reason string

// Reasons of an [IncompleteError].
const (
	// RepeatedItem: an item came twice (a page served again under a new
	// cursor, or offsets shifted while the listing ran).
	RepeatedItem Reason = "repeated-item"
	// RepeatedCursor: a page linked to a page already fetched.
	RepeatedCursor Reason = "repeated-cursor"
	// SizeMismatch: the API's own count of the items disagrees with the
	// items it served.
	SizeMismatch Reason = "size-mismatch"
	// EmptyPage: a page without items linked to a further page.
	EmptyPage Reason = "empty-page"
	// PageCap and ItemCap: the listing reached the page or item cap.
	PageCap Reason = "page-cap"
	ItemCap Reason = "item-cap"
)

// IncompleteError is a listing that cannot be trusted to be whole: what was
// listed, why, and how far it got.
type IncompleteError struct {
	// What is the listing, e.g. "Bitbucket repositories of workspace acme".
	What   string
	Reason Reason
	// Pages and Items are how many were fetched and yielded before it stopped.
	Pages, Items int
	// Detail is the evidence: the repeated id, the counts that disagree.
	Detail string
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("the listing of %s is incomplete (%s after %s, %s): %s", e.What, e.Reason, count(e.Pages, "page"), count(e.Items, "item"), e.Detail)
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Check follows one listing as its pages arrive. Ids and cursors are kept
// as 64-bit hashes, so its memory is a few bytes per item whatever the ids
// look like; a collision (odds below one in 10^9 at the item cap) can only
// make a whole listing look incomplete, never an incomplete one whole.
type Check struct {
	what               string
	maxPages, maxItems int
	pages, items       int
	seed               maphash.Seed
	ids, cursors       map[uint64]struct{}
}

// New starts the check of one listing; a cap of 0 or less is the default
// (maxPages must then be given by the caller's client, maxItems is MaxItems).
func New(what string, maxPages, maxItems int) *Check {
	if maxItems <= 0 {
		maxItems = MaxItems
	}
	return &Check{what: what, maxPages: maxPages, maxItems: maxItems, seed: maphash.MakeSeed(),
		ids: map[uint64]struct{}{}, cursors: map[uint64]struct{}{}}
}

func (c *Check) fail(r Reason, format string, a ...any) error {
	return &IncompleteError{What: c.what, Reason: r, Pages: c.pages, Items: c.items, Detail: fmt.Sprintf(format, a...)}
}

// Seen reports whether cursor was fetched before, without recording it.
func (c *Check) Seen(cursor string) bool {
	_, ok := c.cursors[maphash.String(c.seed, cursor)]
	return ok
}

// Page is called before a page is fetched: it refuses a cursor fetched
// before and a page past the cap.
func (c *Check) Page(cursor string) error {
	if c.maxPages > 0 && c.pages >= c.maxPages {
		return c.fail(PageCap, "every page linked to a new next page, %d pages and counting, far beyond any real estate", c.pages)
	}
	h := maphash.String(c.seed, cursor)
	if _, dup := c.cursors[h]; dup {
		return c.fail(RepeatedCursor, "a page linked back to a page already fetched")
	}
	c.cursors[h] = struct{}{}
	c.pages++
	return nil
}

// Item is called for each item before it is yielded: it refuses an id seen
// before and an item past the cap. An empty id is not checked (the caller
// has nothing to tell items apart by).
func (c *Check) Item(id string) error {
	if c.items >= c.maxItems {
		return c.fail(ItemCap, "more than %d items, far beyond any real estate", c.maxItems)
	}
	if id != "" {
		h := maphash.String(c.seed, id)
		if _, dup := c.ids[h]; dup {
			return c.fail(RepeatedItem, "%s came twice", id)
		}
		c.ids[h] = struct{}{}
	}
	c.items++
	return nil
}

// Items is how many items were counted so far.
func (c *Check) Items() int { return c.items }

// Size compares the API's own count of the listing's items (Bitbucket's
// `size`), when it gave one, with the items served once the listing ended.
func (c *Check) Size(size int) error {
	if size != c.items {
		return c.fail(SizeMismatch, "the API counted %d items and served %d", size, c.items)
	}
	return nil
}

// EmptyPage is the error of a page without items that links to a further
// page: pages are numbered, so the items of the pages after it moved and
// some were never served.
func (c *Check) EmptyPage() error {
	return c.fail(EmptyPage, "page %d has no item but links to a next page", c.pages)
}

// Repeated is the error of a next link to a page already fetched.
func (c *Check) Repeated() error {
	return c.fail(RepeatedCursor, "page %d linked back to a page already fetched", c.pages)
}
