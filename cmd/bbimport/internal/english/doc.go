// Package english renders counts and lists in the sentences bbimport
// prints.
package english
