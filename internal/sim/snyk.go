package sim

import "net/http"

// SnykConfig configures the simulated Snyk API. (Stub: the Snyk half fills
// this in.)
type SnykConfig struct {
	Faults Faults
}

type snykState struct{}

func newSnykState(*Server, SnykConfig) *snykState { return &snykState{} }

func (st *snykState) setBaseURL(string) {}

func (s *Server) registerSnyk(*http.ServeMux) {}
