//go:build unix

package importfiles

import "syscall"

const oNoFollow = syscall.O_NOFOLLOW
