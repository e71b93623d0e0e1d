package sim

import "sort"

// IssuedBitbucketTokens returns every access token the token endpoint has
// issued so far, expired ones included, sorted. Tests use it to assert that
// no token issued at run time leaks into output or files.
func (s *Server) IssuedBitbucketTokens() []string {
	s.bb.mu.Lock()
	defer s.bb.mu.Unlock()
	out := make([]string, 0, len(s.bb.tokens))
	for t := range s.bb.tokens {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
