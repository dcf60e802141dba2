//go:build race

package queue

// raceEnabled scales down the long-running tests under -race, which
// slows map-heavy code about tenfold.
const raceEnabled = true
