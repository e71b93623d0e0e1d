package snyk

// WithRedact makes the client pass every error text through redact (the
// command's redactor, which knows every form of every secret and each token
// as it is minted): a server echoing a secret, in any encoded form, must not
// have it reach an error message, a log or a failure log file.
func WithRedact(redact func(string) string) Option {
	return func(c *Client) error {
		c.redact = redact
		return nil
	}
}
