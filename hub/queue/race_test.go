//go:build race

package queue

// raceDetector is true when the tests run with -race. The engine is pure
// and single-threaded, so the race detector finds nothing in its property
// test; it only makes it ten times slower.
const raceDetector = true
