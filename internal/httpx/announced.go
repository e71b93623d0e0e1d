package httpx

import (
	"context"
	"net/http"
)

// DefaultCeiling is how far a server's announced limit may raise a budget
// whose limit nobody set: Bitbucket's scaled limits stop at 10,000 an
// hour, and a larger announcement is a server's mistake to be told of.
const DefaultCeiling = 10_000

// announcedLimits are the limits a server announced (X-RateLimit-Limit)
// per resource group (X-RateLimit-Resource), each in force for the
// requests of its group only: Bitbucket scales an access token's limit on
// its "api" group (most /2.0/repositories/*), not on the others. A request
// is known by its class (BudgetConfig.Class) before it is sent; an answer
// naming its group ties the class to the group.
type announcedLimits struct {
	limits map[string]int    // group → limit in force
	alias  map[string]string // request class → the group its answers named
}

// group is the resource group of a request of class.
func (a *announcedLimits) group(class string) string {
	if g, ok := a.alias[class]; ok {
		return g
	}
	return class
}

// limit is the limit in force for a request of class: its group's
// announced one, else def; announced says which.
func (a *announcedLimits) limit(class string, def int) (limit int, announced bool) {
	if l, ok := a.limits[a.group(class)]; ok {
		return l, true
	}
	return def, false
}

// set records an announcement on the answer to a request of class. It may
// lower the configured limit, and raise it up to ceiling (0: never above
// the configured one).
func (a *announcedLimits) set(class, resource string, announced, configured, ceiling int) {
	if a.limits == nil {
		a.limits, a.alias = map[string]int{}, map[string]string{}
	}
	group := class
	if resource != "" {
		group = resource
		if class != resource {
			a.alias[class] = resource
		}
	}
	a.limits[group] = min(announced, max(configured, ceiling))
}

// highest is the largest announced limit in force, 0 when none was.
func (a *announcedLimits) highest() int {
	n := 0
	for _, l := range a.limits {
		n = max(n, l)
	}
	return n
}

type classKey struct{}

// withClass marks ctx with the class of the request about to wait for
// the budget.
func withClass(ctx context.Context, b *Budget, req *http.Request) context.Context {
	if b == nil || b.cfg.Class == nil {
		return ctx
	}
	return context.WithValue(ctx, classKey{}, b.cfg.Class(req))
}

func classFrom(ctx context.Context) string {
	c, _ := ctx.Value(classKey{}).(string)
	return c
}

// classOf is the class of the request an answer is to.
func (b *Budget) classOf(resp *http.Response) string {
	if b.cfg.Class == nil || resp == nil || resp.Request == nil {
		return ""
	}
	return b.cfg.Class(resp.Request)
}

// InForce is the limit the budget paces by now and whether a server
// announced it: the highest announced group's, else the configured one.
func (b *Budget) InForce() (limit int, announced bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := b.announced.highest(); n > 0 {
		return n, true
	}
	return b.cfg.Limit, false
}
