// Package safefile opens files in directories that bbimport writes but does
// not control: the log directory and the state directory may come from a CI
// cache, a shared volume or a colleague's mistake, and a file planted there
// must not make bbimport hang, exhaust memory, or write somewhere else.
//
// Every state, lock and log file, and every certificate bundle, is opened
// here. The checks are made on the open file, not only on the name:
//   - a symbolic link is refused (O_NOFOLLOW where the system has it, and a
//     check of the name first), unless the caller follows links on purpose
//     (a certificate bundle named by a variable);
//   - only a regular file is opened: a FIFO or a device is refused before
//     it is opened (opening a FIFO blocks until a writer comes, reading
//     /dev/zero never ends), and the open is non-blocking in case one is
//     swapped in between;
//   - a file with more than one name (hard link) is refused: a write to it
//     would change the other name's content too;
//   - a file over the caller's size limit is refused before it is read,
//     and read through the limit;
//   - where the system has owners and modes, a private file (a ledger, a
//     key) must belong to this user and be closed to others.
//
// The package never truncates: O_TRUNC is refused, since truncating on open
// would happen before any check.
package safefile
