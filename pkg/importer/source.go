package importer

import "slices"

// Names of the sources orgs:data, import:data and sync accept.
const (
	// SourceBitbucketCloudApp lists Bitbucket with an OAuth consumer; orgs
	// are named after the workspace display name.
	SourceBitbucketCloudApp = "bitbucket-cloud-app"
	// SourceBitbucketCloud lists Bitbucket with a user's credentials; orgs
	// are named after the workspace slug.
	SourceBitbucketCloud = "bitbucket-cloud"
)

// Source is one way of reaching Bitbucket Cloud (the stages' Source): what the
// stages and the command layer need to know of it. A new source is one more
// entry of sources (and its credentials in cmd/bbimport's clients.go).
type Source struct {
	// Name is the source's name as the user gives it, also part of the file
	// names it writes.
	Name string
	// Credentials says for people what it authenticates with.
	Credentials string
	// OrgsByDisplayName names orgs after the workspace display name (as the
	// original did for the app); else after the slug.
	OrgsByDisplayName bool
	// Integrations are the Snyk integration types of its orgs, in the order
	// import:data looks for them. They are also its projects' origins, and
	// are aliases of each other: Snyk gives the app's projects either
	// origin.
	Integrations []string
}

// sources are the sources, the default first.
var sources = []Source{
	{Name: SourceBitbucketCloudApp, Credentials: "OAuth consumer", OrgsByDisplayName: true,
		Integrations: []string{"bitbucket-cloud-app", "bitbucket-connect-app"}},
	{Name: SourceBitbucketCloud, Credentials: "Atlassian API token or access token",
		Integrations: []string{"bitbucket-cloud"}},
}

// Sources returns every source, the default first.
func Sources() []Source { return slices.Clone(sources) }

// LookupSource finds a source by name.
func LookupSource(name string) (Source, bool) {
	for _, s := range sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// orgsByDisplayName reports whether the named source names orgs after the
// workspace display name.
func orgsByDisplayName(source string) bool {
	s, _ := LookupSource(source)
	return s.OrgsByDisplayName
}

// integrationSource is the source whose orgs have integration type t.
func integrationSource(t string) (Source, bool) {
	for _, s := range sources {
		if slices.Contains(s.Integrations, t) {
			return s, true
		}
	}
	return Source{}, false
}

// integrationAliases are the other names Snyk gives the integration type
// t (bitbucket-cloud-app ↔ bitbucket-connect-app), none for most types.
func integrationAliases(t string) []string {
	s, _ := integrationSource(t)
	return slices.DeleteFunc(slices.Clone(s.Integrations), func(o string) bool { return o == t })
}
