// Package redact scrubs secrets from text before it reaches a log: the
// literal values of known secrets, wherever and however encoded they appear,
// and the values of credential-shaped fields (Authorization headers, OAuth
// token fields, passwords) whatever their value.
package redact
