package bitbucket_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bbimport/bbimport/internal/sim"
	"github.com/bbimport/bbimport/pkg/bitbucket"
)

// ListProjectsIter pages through every project, 100 a page, whatever the number
// of repositories, and lists projects without repositories too.
func TestListProjectsAgainstSimulator(t *testing.T) {
	var keys []string
	for i := range 250 {
		keys = append(keys, fmt.Sprintf("P%03d", i))
	}
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Workspaces: []sim.WorkspaceSpec{
		{Slug: "many", Repos: 1000, Projects: keys},
		{Slug: "few", Repos: 5000, Projects: []string{"CORE", "WEB"}, EmptyProjects: []string{"ARCHIVE"}},
		{Slug: "none"},
	}}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)

	tests := []struct {
		workspace string
		want      []string
		pages     int64
	}{
		{"many", keys, 3},
		{"few", []string{"CORE", "WEB", "ARCHIVE"}, 1},
		{"none", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.workspace, func(t *testing.T) {
			var got []string
			for p, err := range c.ListProjectsIter(t.Context(), tt.workspace) {
				if err != nil {
					t.Fatal(err)
				}
				if p.Name == "" || p.UUID == "" {
					t.Errorf("project %+v lacks name or uuid", p)
				}
				got = append(got, p.Key)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("keys = %v, want %v", got, tt.want)
			}
			if n := s.Count("bitbucket.projects_pages." + tt.workspace); n != tt.pages {
				t.Errorf("%d project pages, want %d", n, tt.pages)
			}
		})
	}
	if n := s.Count("bitbucket.repositories_pages"); n != 0 {
		t.Errorf("listing projects fetched %d repository pages", n)
	}
	if n := s.Count("bitbucket.max_pagelen"); n != 100 {
		t.Errorf("max pagelen %d, want 100", n)
	}
}

// A 403 names the project permission; a 404 names the workspace.
func TestListProjectsErrors(t *testing.T) {
	s := startSim(t, sim.Config{Bitbucket: sim.BitbucketConfig{Scopes: "account repository"}})
	c := newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	var err error
	for _, e := range c.ListProjectsIter(t.Context(), "acme-platform") {
		err = e
	}
	var er *bitbucket.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusForbidden {
		t.Fatalf("err = %v, want a 403", err)
	}
	for _, want := range []string{`"project" permission`, `workspace "acme-platform"`, "to list the projects"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	s = startSim(t, sim.Config{})
	c = newSimClient(t, s, sim.DefaultBitbucketClientSecret)
	for _, e := range c.ListProjectsIter(t.Context(), "nope") {
		err = e
	}
	if !errors.As(err, &er) || er.Response.StatusCode != http.StatusNotFound || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("err = %v, want a 404 naming the workspace", err)
	}
	for _, e := range c.ListProjectsIter(t.Context(), "..") {
		err = e
	}
	if err == nil || !strings.Contains(err.Error(), "invalid workspace") {
		t.Fatalf("err = %v, want an invalid workspace", err)
	}
}
