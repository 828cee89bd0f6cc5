// Package stats computes the statistics of a site from the hub's event log:
// tickets per hour, waits and service times (mean, median, 90th percentile,
// distribution), the share called within each service's target, no-shows,
// cancellations, transfers and abandoned calls — for a day or a range of
// days, per service, agent and channel. It draws them as SVG charts and
// exports them as CSV for spreadsheets in French (or English), and serves all
// of it over HTTP for the supervision pages and the API.
//
// It reads the log, never writes it: a Projection folds the log's events
// into one row per finished ticket, kept in a file of its own (stats.db in
// the data directory) with the cursor that says how far it has read. Reports
// are computed from those rows. docs/statistics.md says exactly how each
// number is computed; the rules live in fold.go (what a ticket's row holds)
// and report.go (how rows become numbers).
//
// It never holds a citizen's identity: the projection keeps no citizen field.
package stats
