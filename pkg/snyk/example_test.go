package snyk_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bbimport/bbimport/internal/credential"
	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/snyk"
)

func ExampleClient_ListGroupOrgs() {
	ctx := context.Background()
	// The stack, not the client, carries the credential.
	cred, err := credential.Token(credential.SnykAPIToken, "token", os.Getenv("SNYK_TOKEN"))
	if err != nil {
		fmt.Println(err)
		return
	}
	stack, err := httpx.New(httpx.Options{API: "snyk", Credential: cred})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := snyk.NewClient(
		snyk.WithHTTPClient(stack),
		snyk.WithBaseURL("https://api.eu.snyk.io/v1"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for org, err := range c.ListGroupOrgsIter(ctx, "4a18d42f-0706-4ad0-b127-24078731fbed") {
		if err != nil {
			fmt.Println(err) // e.g. Snyk rejected the token (401): …
			return
		}
		fmt.Println(org.ID, org.Name)
	}
}
