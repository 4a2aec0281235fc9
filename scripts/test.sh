#!/usr/bin/env bash
# Set up and run the whole mapiproxy test suite.
#
#   bash scripts/test.sh                 # every test, in tests/
#   bash scripts/test.sh tests.test_peers tests.dcerpc
#
# Creates .venv (python3 -m venv) if missing, installs the project with its
# test extras into it, runs twisted trial, and ends with ONE plain line:
#   N passed, F failed, S skipped
# (errors count as failed). Exits non-zero when trial failed or no test ran.
#
# Environment: PYTHON (interpreter for the venv, default python3),
# CI=true (missing real peers such as samba/tshark become failures, not skips).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $("$python" --version 2>&1)"
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

log=$(mktemp "${TMPDIR:-/tmp}/mapiproxy-test.XXXXXX")
echo "trial output: $log"

set +e
.venv/bin/python -m twisted.trial --reporter=text "${@:-tests}" 2>&1 | tee "$log"
trial_status=${PIPESTATUS[0]}
set -e

# Trial's last word, e.g. "PASSED (successes=12, skips=2)" or
# "FAILED (skips=1, failures=1, errors=2, successes=3)".
result=$(grep -E '^(PASSED|FAILED)( \(|$)' "$log" | tail -n 1 || true)

count() {
    local value
    value=$(printf '%s\n' "$result" | grep -oE "(^|[ (])$1=[0-9]+" | grep -oE '[0-9]+$' || true)
    echo "${value:-0}"
}

successes=$(count successes)
failures=$(count failures)
errors=$(count errors)
skips=$(count skips)
expected=$(count expectedFailures)
unexpected=$(count unexpectedSuccesses)
failed=$((failures + errors))

echo
if [ "$skips" -gt 0 ]; then
    echo "Skipped ($skips), by reason:"
    # Each [SKIPPED] block of trial's report: a reason, a blank line, tests.
    awk '
        /^=====+$/ || /^-----+$/ { inblock = 0; next }
        /^\[SKIPPED\]$/ { inblock = 1; reason = ""; next }
        inblock && reason == "" && NF { reason = $0; next }
        inblock && NF {
            if (!(reason in n)) { order[++k] = reason }
            n[reason]++
            if (n[reason] <= 5) { names[reason] = names[reason] "\n      " $0 }
        }
        END {
            for (i = 1; i <= k; i++) {
                r = order[i]
                printf "  %d x %s%s\n", n[r], r, names[r]
                if (n[r] > 5) { printf "      ... and %d more\n", n[r] - 5 }
            }
        }
    ' "$log"
fi
if [ "$expected" -gt 0 ] || [ "$unexpected" -gt 0 ]; then
    echo "todo: $expected expected failures, $unexpected unexpected successes"
fi
status=0
if [ -z "$result" ]; then
    echo "trial printed no PASSED/FAILED line (see $log)" >&2
    status=1
elif [ "$trial_status" -ne 0 ] || [ "$failed" -gt 0 ]; then
    status=1
elif [ "$successes" -eq 0 ]; then
    echo "no test passed (none ran, or all were skipped)" >&2
    status=1
fi

# The one plain summary line, last.
echo "$successes passed, $failed failed, $skips skipped"
exit "$status"
