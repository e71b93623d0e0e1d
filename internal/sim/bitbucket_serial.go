package sim

import (
	"net/http"
	"time"
)

// enterSerial is the serialising mode (BitbucketConfig.SerialHandling):
// it holds a /2.0 request until no other is being handled and reports
// whether the request may go on (false: the client gave up while queued).
// The caller authenticates right after, so a token is checked when its
// request's handling starts, after its time in the queue: a token that was
// valid when sent can expire on the way, as behind a busy Bitbucket.
func (st *bitbucketState) enterSerial(r *http.Request) bool {
	if st.cfg.SerialHandling <= 0 {
		return true
	}
	select {
	case st.serial <- struct{}{}:
		return true
	case <-r.Context().Done():
		return false
	}
}

// leaveSerial ends a request's handling: it takes SerialHandling, then the
// next queued request may start. A no-op outside the serialising mode.
func (st *bitbucketState) leaveSerial() {
	if st.cfg.SerialHandling <= 0 {
		return
	}
	time.Sleep(st.cfg.SerialHandling)
	<-st.serial
}
