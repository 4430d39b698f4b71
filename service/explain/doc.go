// Package explain turns what the business writes in words (a score line's
// reason, a stage change's, a timeline entry, a loss, a code's alert, an
// error answer's reason, WeCom's failures) into messages: a stable code with
// its parameters and the text in the language the request asked for
// (Message, Lang, Localize). Clients act on the code; people read the text.
//
// The catalogue (messages.go, reasons.go) holds every form with its English
// and Chinese text; TestEveryAPIReasonHasACodeAndChinese (package service)
// scans the source for the reasons the API can answer with, so a new one
// without its form fails. It sits above the leads (stage names, the lead's
// explained view) and below the domains whose views carry messages.
package explain
