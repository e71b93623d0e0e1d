package httpx

import "errors"

// CredentialsRejected reports whether err says the API refused the
// credentials themselves (a 401, a failed token exchange): the one
// definition of an auth error, which the command maps to exit code 4. A 403
// is not one: the credentials are good but lack a permission. The clients'
// error types decide by implementing CredentialsRejected() bool; the first
// such error in the chain answers.
func CredentialsRejected(err error) bool {
	var r interface{ CredentialsRejected() bool }
	return errors.As(err, &r) && r.CredentialsRejected()
}
