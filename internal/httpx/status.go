package httpx

// RetryableStatus reports whether an answer with this status may succeed
// when asked again later: the retry policy's own rule (429, and 5xx but
// 501), for the clients' typed errors to report as Retryable.
func RetryableStatus(code int) bool { return retryableStatus(code) }
