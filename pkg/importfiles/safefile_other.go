//go:build !unix

package importfiles

// oNoFollow is 0 where open(2) has no O_NOFOLLOW: the Lstat check stands
// alone there.
const oNoFollow = 0
