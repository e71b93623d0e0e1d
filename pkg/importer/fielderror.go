package importer

import (
	"regexp"
	"strings"
)

// FieldError is an option a stage cannot run with. Msg says what is wrong
// and names options as {Field} (the Go field of the stage's Options, such
// as {GroupID} or {LogPath}); Error shows those names, and the command shows
// its own flag and variable names in their place, so that the importer
// knows nothing of flags.
type FieldError struct {
	// Stage is the command the options were for ("orgs:data"); may be empty.
	Stage string
	// Field is the option at fault, as it is written in Msg.
	Field string
	// Msg is the sentence, with {Field} for each option it names.
	Msg string
}

var fieldRef = regexp.MustCompile(`\{([A-Za-z.]+)\}`)

// Error is the message with each {Field} as the field's name.
func (e *FieldError) Error() string { return e.Text(func(field string) string { return field }) }

// Text is the message with each {Field} replaced by name(field).
func (e *FieldError) Text(name func(field string) string) string {
	msg := fieldRef.ReplaceAllStringFunc(e.Msg, func(ref string) string {
		return name(strings.Trim(ref, "{}"))
	})
	if e.Stage != "" {
		return e.Stage + ": " + msg
	}
	return msg
}

func fieldErrorf(stage, field, msg string) *FieldError {
	return &FieldError{Stage: stage, Field: field, Msg: msg}
}
