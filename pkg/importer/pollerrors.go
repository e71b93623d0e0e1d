package importer

import (
	"encoding/json"
	"errors"

	"github.com/bbimport/bbimport/internal/httpx"
	"github.com/bbimport/bbimport/pkg/snyk"
)

// unhealablePollError reports whether a poll failed in a way the same
// request cannot repair: a Location that cannot be polled (or lies outside
// the scope of the credential: another API behind the same host), a poll answered
// with a redirect bbimport does not follow (to another origin, where the
// token would go: 15 workers polled 885 times in 2 minutes, importing
// nothing) or redirected in a loop, or a 2xx body that is not an import
// job (invalid JSON, nested too deep, a raw control character, a wrong
// type, over the size limit). Each tied a worker up until the poll timeout
// (2 h by default). A body cut by a dropped connection is
// not one of them: the HTTP stack retries that within the attempt. A proxy
// answering 200 with an HTML page would be taken as final too; the target
// is then logged failed and imported again by the next run.
func unhealablePollError(err error) bool {
	var (
		loc    *snyk.LocationError
		scope  *httpx.ScopeError
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	if s := errorStatus(err); s >= 300 && s < 400 {
		return true
	}
	return errors.As(err, &loc) || errors.As(err, &scope) || errors.As(err, &syntax) || errors.As(err, &typ) ||
		httpx.IsResponseTooLarge(err) || errors.Is(err, httpx.ErrRedirectLoop)
}
