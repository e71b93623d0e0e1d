package importer

import (
	"context"
	"fmt"
)

// CheckGroups is checkGroups for sync, which reads the created-orgs file
// itself.
func CheckGroups(ctx context.Context, s Snyk, rows []CreatedOrg) (map[string]error, error) {
	return checkGroups(ctx, s, rows)
}

// checkGroups lists each group of rows once and returns, for every org
// that is not in the group its row names, the error that org fails with. A
// group that cannot be read is an error for the run: nothing of it could
// be imported. Rows without a group are not checked.
//
// It is what makes a created-orgs file of another group or Snyk tenant
// fail at import:data, in a request per 100 orgs of the group, instead of
// at import, one refused target at a time.
func checkGroups(ctx context.Context, s Snyk, rows []CreatedOrg) (map[string]error, error) {
	byGroup := map[string][]CreatedOrg{}
	var order []string
	for _, r := range rows {
		if r.GroupID == "" {
			continue
		}
		if _, ok := byGroup[r.GroupID]; !ok {
			order = append(order, r.GroupID)
		}
		byGroup[r.GroupID] = append(byGroup[r.GroupID], r)
	}
	out := map[string]error{}
	for _, g := range order {
		in := map[string]bool{}
		for o, err := range s.ListGroupOrgsIter(ctx, g) {
			if err != nil {
				first := byGroup[g][0]
				return nil, &GroupError{GroupID: g, OrgID: first.OrgID, OrgName: first.Name, Orgs: len(byGroup[g]), Err: err}
			}
			in[o.ID] = true
		}
		for _, r := range byGroup[g] {
			if !in[r.OrgID] {
				out[r.OrgID] = &OrgNotInGroupError{OrgID: r.OrgID, OrgName: r.Name, GroupID: g}
			}
		}
	}
	return out, nil
}

// GroupError is a Snyk group of the created-orgs file that could not be
// read: none of its orgs is listed.
type GroupError struct {
	GroupID string
	// OrgID and OrgName are the group's first org in the file; Orgs counts
	// its orgs there.
	OrgID, OrgName string
	Orgs           int
	Err            error
}

func (e *GroupError) Error() string {
	return fmt.Sprintf("Snyk group %s of org %q (%s) and %s of the created-orgs file could not be read, so none was listed: %v",
		e.GroupID, e.OrgName, e.OrgID, pluralWord(e.Orgs-1, "other", "others"), e.Err)
}

func (e *GroupError) Unwrap() error { return e.Err }

// OrgNotInGroupError is an org of the created-orgs file that its group, as
// the Snyk credential sees it, does not hold: the file was made for
// another group or another Snyk tenant, or the org was deleted. Every
// import into it would be refused.
type OrgNotInGroupError struct {
	OrgID, OrgName, GroupID string
}

func (e *OrgNotInGroupError) Error() string { return e.Problem() }

// Problem says what is wrong; Details adds nothing (it is no API answer).
func (e *OrgNotInGroupError) Problem() string {
	return fmt.Sprintf("org %q (%s) is not in Snyk group %s as the Snyk credential sees it: the created-orgs file was made for another group or Snyk tenant, or the org was deleted",
		e.OrgName, e.OrgID, e.GroupID)
}

// Details is empty: the fact came from a listing, not from one answer.
func (e *OrgNotInGroupError) Details() string { return "" }
