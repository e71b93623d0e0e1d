// Package cause groups the items a stage or a check could not do by the
// cause of their failure, so that one cause is said once however many items
// it hit: a rejected token fails every org of a group the same way.
package cause
