package main

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/bbimport/bbimport/internal/sim"
)

// registerEstate adds the knobs a sync benchmark drives between runs:
//
//	POST /_sim/seed-imported?org=<id>&workspace=<slug>
//	    the org gets the projects an import of the workspace would make
//	POST /_sim/change?workspace=<slug>&rename=N&delete=N&branch=N&manifest=N&new=N
//	    that many repositories renamed, deleted, moved to another default
//	    branch, given a new manifest, added
//	POST /_sim/list-status?workspace=<slug>&status=500   (0 = healthy again)
//
// Each answers {"ok":true,...} or 400 with {"error":...}.
func registerEstate(mux *http.ServeMux, s *sim.Server) {
	answer := func(w http.ResponseWriter, v map[string]any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		v["ok"] = true
		_ = json.NewEncoder(w).Encode(v)
	}
	num := func(r *http.Request, k string) int {
		n, _ := strconv.Atoi(r.URL.Query().Get(k))
		return max(n, 0)
	}
	mux.HandleFunc("POST /_sim/seed-imported", func(w http.ResponseWriter, r *http.Request) {
		n, err := s.SeedImported(r.URL.Query().Get("org"), r.URL.Query().Get("workspace"))
		answer(w, map[string]any{"repositories": n}, err)
	})
	mux.HandleFunc("POST /_sim/change", func(w http.ResponseWriter, r *http.Request) {
		ch, err := s.PlanChange(r.URL.Query().Get("workspace"), sim.ChangeCounts{Rename: num(r, "rename"),
			Delete: num(r, "delete"), Branch: num(r, "branch"), Manifest: num(r, "manifest"), New: num(r, "new")})
		if err == nil {
			err = s.ChangeEstate(ch)
		}
		answer(w, map[string]any{}, err)
	})
	mux.HandleFunc("POST /_sim/list-status", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{}, s.SetWorkspaceListStatus(r.URL.Query().Get("workspace"), num(r, "status")))
	})
}
