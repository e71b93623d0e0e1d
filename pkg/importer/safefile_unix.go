//go:build unix

package importer

import "syscall"

const oNoFollow = syscall.O_NOFOLLOW
