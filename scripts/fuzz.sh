#!/usr/bin/env bash
# Runs every Go fuzz target of the project (every func FuzzXxx in a
# _test.go file), one after the other, for FUZZTIME each.
#
#   scripts/fuzz.sh                 # 300 inputs a target (make fuzz-short, part of make test):
#                                   # a count, not a time — under load, a time ran out while Go
#                                   # was still replaying the corpus, which it reports as a failure
#   FUZZTIME=5m scripts/fuzz.sh     # make fuzz
#   scripts/fuzz.sh FuzzParseCommand FuzzRetained   # only these
#
# A crasher is written to the package's testdata/fuzz/<target>/ by go test:
# fix it, and commit the file — it is a seed from then on, run by every
# go test. Go fuzzes one target of one package per invocation, hence the
# loop. FUZZPARALLEL (default 1) is the number of fuzzing workers: the
# machines this runs on are shared.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-300x}
FUZZPARALLEL=${FUZZPARALLEL:-1}
GO=${GO:-go}

# Every target, as "package-dir target", found in the sources.
list=$(find . -name '*_test.go' -not -path '*/node_modules/*' -not -path './.git/*' -print0 |
	xargs -0 grep -H -o '^func Fuzz[A-Za-z0-9_]*' |
	sed -E 's#^\./(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)#\1 \2#' | sort)
if [ $# -gt 0 ]; then
	want=" $* "
	list=$(echo "$list" | while read -r dir name; do
		case "$want" in *" $name "*) echo "$dir $name" ;; esac
	done)
fi
if [ -z "$list" ]; then
	echo "fuzz: no target" >&2
	exit 1
fi

start=$(date +%s)
failed=()
while read -r dir name; do
	t0=$(date +%s)
	printf 'fuzz: %-28s ./%s ' "$name" "$dir"
	log=$(mktemp "${TMPDIR:-/tmp}/guichet-fuzz-XXXXXX")
	if $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 10s \
		-parallel "$FUZZPARALLEL" "./$dir" >"$log" 2>&1; then
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 || true)
		echo "ok ($(($(date +%s) - t0)) s, ${execs:-execs: ?})"
	else
		echo "FAILED"
		cat "$log"
		failed+=("$name")
	fi
	rm -f "$log"
done <<<"$list"

echo "fuzz: $(echo "$list" | wc -l) targets in $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]} (the failing inputs are in testdata/fuzz/ of their packages)" >&2
	exit 1
fi
