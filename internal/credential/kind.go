package credential

// Kind says what a credential is, so that a refusal can be worded for the
// credential that was actually sent.
type Kind int

// The kinds of credential bbimport uses.
const (
	Unknown Kind = iota
	// BitbucketConsumer is an OAuth consumer's key and secret exchanged with
	// client_credentials.
	BitbucketConsumer
	// BitbucketUser is an Atlassian account's e-mail and a password sent as
	// HTTP Basic: an API token given as the password (Bitbucket accepts no
	// account password on its API).
	BitbucketUser
	// BitbucketAPIToken is an Atlassian API token: Basic with the account's
	// e-mail, else Bearer.
	BitbucketAPIToken
	// BitbucketOAuthToken is an OAuth access token sent as Bearer.
	BitbucketOAuthToken
	// SnykServiceAccount is a Snyk service account's client id and secret
	// exchanged with client_credentials.
	SnykServiceAccount
	// SnykOAuthToken is a Snyk OAuth access token sent as Bearer.
	SnykOAuthToken
	// SnykAPIToken is a Snyk API token sent as `Authorization: token`.
	SnykAPIToken
	// BitbucketAccessToken is a workspace, project or repository access
	// token sent as Bearer: no user, bound to what it was made for, with a
	// rate limit of its own that scales with the workspace's seats.
	BitbucketAccessToken
	// BitbucketAppPassword is a username (not an e-mail) and app password
	// sent as HTTP Basic. Bitbucket removed app passwords on 2026-07-28.
	BitbucketAppPassword
)

// String is a short name for logs: the bitbucket-cloud source's method
// names ("user", "api", "oauth") for its kinds.
func (k Kind) String() string {
	switch k {
	case BitbucketConsumer:
		return "oauth-consumer"
	case BitbucketUser, BitbucketAppPassword:
		return "user"
	case BitbucketAPIToken:
		return "api"
	case BitbucketOAuthToken:
		return "oauth"
	case SnykServiceAccount:
		return "service-account"
	case SnykOAuthToken:
		return "oauth-token"
	case SnykAPIToken:
		return "api-token"
	case BitbucketAccessToken:
		return "access-token"
	}
	return "unknown"
}

// Snyk reports a kind of Snyk credential.
func (k Kind) Snyk() bool {
	return k == SnykServiceAccount || k == SnykOAuthToken || k == SnykAPIToken
}

// User reports a kind that authenticates as a user or an app user (a
// consumer's token since 2026-05-04), which Bitbucket may answer at
// GET /2.0/user/workspaces; an access token is no user.
func (k Kind) User() bool { return k != BitbucketAccessToken && !k.Snyk() }

// Minted reports a kind whose tokens are minted by a Source.
func (k Kind) Minted() bool { return k == BitbucketConsumer || k == SnykServiceAccount }

// who names the client of a token exchange in a sentence.
func (k Kind) who() string {
	if k == SnykServiceAccount {
		return "the service account"
	}
	return "the OAuth consumer"
}

// api names the API whose token endpoint answered.
func (k Kind) api() string {
	if k.Snyk() {
		return "Snyk"
	}
	return "Bitbucket"
}
