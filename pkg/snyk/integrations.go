package snyk

import (
	"context"
	"net/http"
	"net/url"
)

// ListIntegrations returns an org's integrations as {type: id}, e.g.
// {"bitbucket-cloud-app": "9a3e…", "github": "…"}.
//
// Snyk API: GET /org/{orgId}/integrations
// (https://docs.snyk.io/snyk-api/reference/integrations-v1).
func (c *Client) ListIntegrations(ctx context.Context, orgID string) (map[string]string, error) {
	if err := requireID("org id", orgID); err != nil {
		return nil, err
	}
	req, err := c.newRequest(ctx, http.MethodGet, c.baseURL, "org/"+url.PathEscape(orgID)+"/integrations", nil, mediaTypeJSON)
	if err != nil {
		return nil, err
	}
	integrations := make(map[string]string)
	if _, err := c.do(req, &integrations); err != nil {
		return nil, err
	}
	return integrations, nil
}

type enabledSetting struct {
	Enabled bool `json:"enabled"`
}

type issueNotificationSetting struct {
	Enabled       bool   `json:"enabled"`
	IssueType     string `json:"issueType"`
	IssueSeverity string `json:"issueSeverity"`
}

// notificationSettingsOff is the body the original sends: every notification
// e-mail switched off before a bulk import.
type notificationSettingsOff struct {
	NewIssuesRemediations issueNotificationSetting `json:"new-issues-remediations"`
	ProjectImported       enabledSetting           `json:"project-imported"`
	TestLimit             enabledSetting           `json:"test-limit"`
	WeeklyReport          enabledSetting           `json:"weekly-report"`
}

// DisableNotifications switches an org's notification e-mails off (new
// issues, project imported, test limit, weekly report), as the original does
// before importing, so a bulk import does not mail every member.
//
// Snyk API: PUT /org/{orgId}/notification-settings
// (https://docs.snyk.io/snyk-api/reference/organizations-v1).
func (c *Client) DisableNotifications(ctx context.Context, orgID string) error {
	if err := requireID("org id", orgID); err != nil {
		return err
	}
	body := notificationSettingsOff{
		NewIssuesRemediations: issueNotificationSetting{IssueType: "none", IssueSeverity: "high"},
	}
	req, err := c.newRequest(ctx, http.MethodPut, c.baseURL, "org/"+url.PathEscape(orgID)+"/notification-settings", body, mediaTypeJSON)
	if err != nil {
		return err
	}
	_, err = c.do(req, nil)
	return err
}
