#!/usr/bin/env bash
# Set up and run mapiproxy in the foreground.
#
#   bash scripts/run.sh                          # etc/demo.conf: lab Exchange + proxy
#   MAPIPROXY_CONF=/etc/mapiproxy/smb.conf bash scripts/run.sh
#   MAPIPROXY_CONF=etc/mapiproxy.conf bash scripts/run.sh -e 1135   # the OpenChange example, no root
#   bash scripts/run.sh --help                   # the mapiproxy options
#
# Creates .venv (python3 -m venv) in the repository if missing, installs
# mapiproxy into it (editable), then runs
#   twistd -n --pidfile= mapiproxy -c "${MAPIPROXY_CONF:-etc/demo.conf}" "$@"
# with the venv's twistd. Extra arguments go to the mapiproxy plugin
# (-c FILE, -l ADDRESSES, -e PORT). Logs go to stdout; stop with Ctrl-C.
#
# Relative paths (MAPIPROXY_CONF, -c) are taken from the directory you run
# this script from; the default config is the repository's
# etc/demo.conf wherever you run it from.
#
# Environment: PYTHON (interpreter for the venv, default python3),
# MAPIPROXY_CONF (the smb.conf-style configuration file).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

python=${PYTHON:-python3}
if [ ! -x "$repo/.venv/bin/python" ]; then
    echo "Creating $repo/.venv with $("$python" --version 2>&1)"
    "$python" -m venv "$repo/.venv"
fi
(cd "$repo" && .venv/bin/python -m pip install -q --disable-pip-version-check -e .)

# twistd finds plugins by scanning sys.path for twisted/plugins/ folders.
# A PEP 660 editable install imports mapiproxy through a finder hook and
# does not put the repository on sys.path, so twistd would not see
# twisted/plugins/mapiproxy_plugin.py: put it there ourselves.
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"

if [ -n "${MAPIPROXY_CONF:-}" ]; then
    conf=$MAPIPROXY_CONF
else
    conf=$repo/etc/demo.conf
fi

exec "$repo/.venv/bin/twistd" -n --pidfile= mapiproxy -c "$conf" "$@"
