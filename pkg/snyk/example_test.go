package snyk_test

import (
	"context"
	"fmt"
	"os"

	"github.com/bbimport/bbimport/pkg/snyk"
)

func ExampleClient_ListGroupOrgs() {
	ctx := context.Background()
	c, err := snyk.NewClient(
		snyk.WithToken(os.Getenv("SNYK_TOKEN")),
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
