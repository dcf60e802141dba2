// Package progress reports the progress of long operations — startup
// recovery, topic deletion, queue purges — to operators, in two ways: log
// lines (a "started" line, a "progress" line at most every two seconds
// with a percentage and a rate, and a "finished" line with the duration),
// and a Registry the admin API lists, so "is the node stuck or working?"
// has an answer while recovery runs or a large topic is being removed.
//
// Role and rules:
//
//   - It is a leaf: the standard library only. The core (internal/broker)
//     reports into it, internal/server creates the one Registry of a node
//     and internal/admin reads it. Storage knows nothing of it.
//   - No global state: the Registry is passed in. A nil *Registry and a
//     nil *Task are valid and do nothing, so code that reports progress
//     needs no "is it configured?" checks and tests need no registry.
//   - It starts no goroutines: logging happens on the caller's Add, which
//     is rate-limited by the clock, not by a ticker. A task that stops
//     calling Add simply stops logging until Finish.
//   - Memory is bounded: running tasks plus the last 50 finished ones, and
//     finished ones older than an hour are dropped.
//
// Concurrency: every method is safe for concurrent use. Lock order:
// Registry.mu → Task.mu; neither is held while logging.
package progress
