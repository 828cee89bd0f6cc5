// Package update is how a device replaces its own binary, safely: release
// bundles (package internal/release: a binary and its minisign signature,
// whose trusted comment is the manifest) are verified against the public
// key the device got at enrollment, installed beside the running one and
// swapped atomically, then tried: the new binary must report healthy
// within a deadline, else it is rolled back and never tried again.
//
// On disk, under the device's data directory (DIR/update):
//
//	v1.4.0/guichet, v1.4.0/guichet.minisig   one folder per installed version
//	current -> v1.4.0                        the version the launcher runs
//	prev    -> v1.3.0                        the one before, for a roll-back
//	state.json                               highest version, bad versions, trial, last outcome
//
// The packaged binary (/usr/bin/guichet, read-only under systemd's
// ProtectSystem=strict) is the launcher: at each start it settles a trial
// (Launch), verifies the signature of current again and runs it in its
// place (exec: the same process for systemd). A binary that crashes before
// it can say anything is thus rolled back by the launcher, which is known
// good.
package update
