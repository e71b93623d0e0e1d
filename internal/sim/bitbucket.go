package sim

import "net/http"

// BitbucketConfig configures the simulated Bitbucket Cloud. (Stub: the
// Bitbucket half fills this in.)
type BitbucketConfig struct {
	Faults Faults
}

type bitbucketState struct{}

func newBitbucketState(*Server, BitbucketConfig) *bitbucketState { return &bitbucketState{} }

func (s *Server) registerBitbucket(*http.ServeMux) {}
