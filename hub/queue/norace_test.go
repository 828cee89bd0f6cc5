//go:build !race

package queue

// raceDetector is true when the tests run with -race (race_test.go).
const raceDetector = false
