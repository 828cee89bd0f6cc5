// Package queue is the hub's queue engine: services, counters, agents and the
// tickets of both channels (visit and phone), the call-next policy, estimated
// waits and the board of last calls.
//
// It is pure: no SQL, no MQTT, no clock reads, no goroutines. Every operation
// takes the current time as an argument, checks what it is asked against the
// live state, and returns the events it decided; those events are applied
// through the same path a restart uses to rebuild the state from the log, so
// the live queue is always a projection of the event log.
//
// An Engine is not safe for concurrent use: the hub serialises access.
package queue
