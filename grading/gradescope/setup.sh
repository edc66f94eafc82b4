#!/bin/sh
# setup.sh: Gradescope runs this once, as root, when it builds the autograder image: it
# installs the Debian/Ubuntu packages the tutorial needs (the list in ./tutorial).
set -eu
SRC=${AUTOGRADER_ROOT:-/autograder}/source
cd "$SRC"
PACKAGES=$(sed -n 's/^PACKAGES="\(.*\)"$/\1/p' tutorial)
[ -n "$PACKAGES" ] || { echo "setup.sh: no PACKAGES line in $SRC/tutorial" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $PACKAGES git ca-certificates

# The grader needs Python 3.11 (tomllib) and Meson 1.0; Ubuntu 22.04 ships 3.10 and 0.61.
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y --no-install-recommends python3.11
    PY=python3.11
fi
if ! meson --version | awk -F. '{ exit !($1 >= 1) }'; then
    apt-get install -y --no-install-recommends python3-pip
    "$PY" -m pip install --break-system-packages 'meson>=1.0' 2>/dev/null || "$PY" -m pip install 'meson>=1.0'
fi
echo "$PY" > "$SRC/grading/gradescope/python"
"$PY" grading/run.py --help > /dev/null
bochs --help 2>&1 | head -1 || true
echo "setup.sh: done ($($PY --version), meson $(meson --version))"
