package importer

// Sources accepted by orgs:data and import:data.
const (
	// SourceBitbucketCloudApp lists Bitbucket with an OAuth consumer; orgs
	// are named after the workspace display name.
	SourceBitbucketCloudApp = "bitbucket-cloud-app"
	// SourceBitbucketCloud lists Bitbucket with a user's credentials; orgs
	// are named after the workspace slug.
	SourceBitbucketCloud = "bitbucket-cloud"
)
