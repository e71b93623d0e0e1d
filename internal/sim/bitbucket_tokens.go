package sim

// IssuedBitbucketTokens returns every access token the token endpoint has
// issued so far, expired ones included, sorted. Tests use it to assert that
// no token issued at run time leaks into output or files.
func (s *Server) IssuedBitbucketTokens() []string { return sortedTokens(&s.bb.mu, s.bb.tokens) }
