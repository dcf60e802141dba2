// Package testbroker runs real Tern brokers for tests: Start runs a node
// in-process on 127.0.0.1:0 with a temporary data directory and stops it
// with t.Cleanup; StartProcess runs the built tern binary as a child
// process so a test can SIGKILL it, restart it on the same data and check
// that nothing acknowledged was lost.
//
// It is imported only by tests.
package testbroker
