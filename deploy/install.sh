#!/bin/sh
# Install commwatch as a systemd service. Idempotent: run it again to upgrade.
#
#   sudo ./deploy/install.sh                     # the real thing (root)
#   ./deploy/install.sh --destdir /tmp/stage     # stage into a directory tree only
#
# Layout (PREFIX defaults to /opt/commwatch):
#   PREFIX/venv                                   virtualenv with commwatch and its dependencies
#   PREFIX/share/commwatch/config/                the shipped config of this version (for diffs)
#   PREFIX/share/commwatch/{prometheus,grafana}/  scrape config, alert rules, dashboard
#   PREFIX/share/doc/commwatch/                   README and the operator's guide
#   /etc/commwatch/*.toml                         the operator's config: copied only when absent
#   /etc/commwatch/credentials/                   secrets for LoadCredential= (root only)
#   /var/lib/commwatch/                           state: the SQLite database, the file outbox
#   /usr/local/lib/systemd/system/commwatch.service
#   /usr/local/lib/sysusers.d/commwatch.conf      the commwatch system user
#   /usr/local/lib/tmpfiles.d/commwatch.conf      owners and modes of the directories above
#
# With DESTDIR (or --destdir) everything goes below that directory and nothing
# outside it is touched: no user is created, no owner changed, systemd is not
# called. The virtualenv's scripts are rewritten to name their final paths.
# Without DESTDIR, `systemctl daemon-reload` runs when systemd is running, the
# config is checked and `commwatch db upgrade` brings the database to this
# version's schema; the service is never started or restarted by this script.
set -eu

PREFIX=/opt/commwatch
DESTDIR=${DESTDIR:-}
PYTHON=${PYTHON:-python3}
PIP_ARGS=${PIP_ARGS:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
UNITDIR=/usr/local/lib/systemd/system
SYSUSERSDIR=/usr/local/lib/sysusers.d
TMPFILESDIR=/usr/local/lib/tmpfiles.d
CONFDIR=/etc/commwatch
STATEDIR=/var/lib/commwatch

usage() {
    cat <<EOF
usage: $0 [--prefix DIR] [--destdir DIR] [--python PYTHON] [--pip-args "ARGS"]

  --prefix DIR      install below DIR (default /opt/commwatch)
  --destdir DIR     stage below DIR instead of / (also: DESTDIR=DIR)
  --python PYTHON   interpreter for the virtualenv, 3.11 or newer (default python3)
  --pip-args ARGS   extra pip arguments, e.g. "--no-index --find-links /srv/wheels"
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --destdir) DESTDIR=${2:?--destdir needs a directory}; shift 2 ;;
        --destdir=*) DESTDIR=${1#*=}; shift ;;
        --python) PYTHON=${2:?--python needs an interpreter}; shift 2 ;;
        --python=*) PYTHON=${1#*=}; shift ;;
        --pip-args) PIP_ARGS=${2?--pip-args needs arguments}; shift 2 ;;
        --pip-args=*) PIP_ARGS=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "install.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done

case $PREFIX in
    /*) PREFIX=${PREFIX%/} ;;
    *) echo "install.sh: --prefix must be an absolute path" >&2; exit 2 ;;
esac
if [ -n "$DESTDIR" ]; then
    mkdir -p "$DESTDIR"
    DESTDIR=$(cd "$DESTDIR" && pwd)
    [ "$DESTDIR" = / ] && DESTDIR=
fi
STAGED=${DESTDIR:+yes}
if [ -z "$STAGED" ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (or stage with --destdir DIR)" >&2
    exit 1
fi

say() { printf '%s\n' "install.sh: $*"; }

# install -d / -m with owners only for a real install.
dir() {  # dir MODE OWNER GROUP PATH
    if [ -n "$STAGED" ]; then
        install -d -m "$1" "$DESTDIR$4"
    else
        install -d -m "$1" -o "$2" -g "$3" "$DESTDIR$4"
    fi
}
file() {  # file MODE OWNER GROUP SOURCE TARGET
    if [ -n "$STAGED" ]; then
        install -m "$1" "$4" "$DESTDIR$5"
    else
        install -m "$1" -o "$2" -g "$3" "$4" "$DESTDIR$5"
    fi
}

# 1. systemd integration files (ours: always replaced; customise with drop-ins).
install -d -m 0755 "$DESTDIR$UNITDIR" "$DESTDIR$SYSUSERSDIR" "$DESTDIR$TMPFILESDIR"
sed "s#/opt/commwatch#$PREFIX#g" "$SRC/deploy/systemd/commwatch.service" \
    > "$DESTDIR$UNITDIR/commwatch.service.tmp"
chmod 0644 "$DESTDIR$UNITDIR/commwatch.service.tmp"
mv -f "$DESTDIR$UNITDIR/commwatch.service.tmp" "$DESTDIR$UNITDIR/commwatch.service"
install -m 0644 "$SRC/deploy/systemd/commwatch.sysusers.conf" "$DESTDIR$SYSUSERSDIR/commwatch.conf"
install -m 0644 "$SRC/deploy/systemd/commwatch.tmpfiles.conf" "$DESTDIR$TMPFILESDIR/commwatch.conf"

# 2. The system user, before anything is chowned to it.
if [ -z "$STAGED" ] && ! getent passwd commwatch >/dev/null; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers "$SYSUSERSDIR/commwatch.conf"
    else
        useradd --system --user-group --home-dir "$STATEDIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "commwatch communication-network monitor" commwatch
    fi
    say "created system user commwatch"
fi

# 3. Directories.
dir 0755 root root "$PREFIX"
dir 0750 root commwatch "$CONFDIR"
dir 0700 root root "$CONFDIR/credentials"
dir 0750 commwatch commwatch "$STATEDIR"

# 4. The virtualenv, from a clean copy of the source (the tree stays free of build/).
VENV=$PREFIX/venv
if [ ! -x "$DESTDIR$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "install.sh: $PYTHON is older than Python 3.11" >&2; exit 1; }
    "$PYTHON" -m venv "$DESTDIR$VENV"
    say "created $VENV"
fi
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
trap 'exit 130' INT TERM
(cd "$SRC" && tar --exclude=__pycache__ -cf - pyproject.toml README.md monitor probes dispatch) \
    | tar -C "$STAGE" -xf -
# shellcheck disable=SC2086 # PIP_ARGS is a list of words
"$DESTDIR$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --upgrade $PIP_ARGS "$STAGE"
if [ -n "$STAGED" ]; then
    # Scripts and activate files name the staging path; make them name the final one.
    grep -rlI -F "$DESTDIR$VENV" "$DESTDIR$VENV/bin" "$DESTDIR$VENV/pyvenv.cfg" 2>/dev/null \
        | while IFS= read -r path; do sed -i "s#$DESTDIR$VENV#$VENV#g" "$path"; done
    # Byte code records its source path for tracebacks: recompile with the final one.
    "$DESTDIR$VENV/bin/python" -m compileall -q -f -j 0 -s "$DESTDIR" -p / "$DESTDIR$VENV/lib"
fi
say "installed $("$DESTDIR$VENV/bin/python" -c \
    'import importlib.metadata as m; print("commwatch", m.version("commwatch"))') into $VENV"

# 5. Shipped config, Prometheus/Grafana files and docs of this version, for
#    reference and diffs (always replaced).
install -d -m 0755 "$DESTDIR$PREFIX/share/commwatch/config" "$DESTDIR$PREFIX/share/doc/commwatch"
install -m 0644 "$SRC"/config/*.toml "$DESTDIR$PREFIX/share/commwatch/config/"
rm -rf "$DESTDIR$PREFIX/share/commwatch/prometheus" "$DESTDIR$PREFIX/share/commwatch/grafana"
cp -R "$SRC/deploy/prometheus" "$SRC/deploy/grafana" "$DESTDIR$PREFIX/share/commwatch/"
install -m 0644 "$SRC/README.md" "$DESTDIR$PREFIX/share/doc/commwatch/"
if [ -d "$SRC/docs" ]; then
    cp -R "$SRC/docs/." "$DESTDIR$PREFIX/share/doc/commwatch/"
fi

# 6. The operator's config: only files that are not there yet. Never overwritten.
for source in "$SRC"/config/*.toml; do
    name=$(basename "$source")
    if [ -e "$DESTDIR$CONFDIR/$name" ]; then
        say "kept $CONFDIR/$name (the shipped one is in $PREFIX/share/commwatch/config/)"
    else
        file 0640 root commwatch "$source" "$CONFDIR/$name"
        say "installed $CONFDIR/$name"
    fi
done

# The database schema (from step 7): an upgrade brings it to this version's
#    revision before the new version starts (the daemon refuses a database that is
#    behind). Run as root with the service's directories; a SQLite file it creates
#    is handed to the commwatch user.
upgrade_database() {
    if (umask 0027 && STATE_DIRECTORY=$STATEDIR CREDENTIALS_DIRECTORY=$CONFDIR/credentials \
        "$VENV/bin/commwatch" db upgrade -c "$CONFDIR"); then
        find "$STATEDIR" -maxdepth 1 -name 'commwatch.db*' -user root \
            -exec chown commwatch:commwatch {} + 2>/dev/null || true
    else
        say "the database upgrade failed (above); fix it, then run before starting the service:"
        say "  $VENV/bin/commwatch db upgrade -c $CONFDIR"
        exit 1
    fi
}

# 7. Tell systemd, when it is running here; check the config; upgrade the database.
if [ -z "$STAGED" ]; then
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
        systemd-tmpfiles --create "$TMPFILESDIR/commwatch.conf"
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        say "systemd reloaded"
    fi
    if "$VENV/bin/commwatch" check-config -q -c "$CONFDIR"; then
        say "$CONFDIR: config OK"
        upgrade_database
    else
        say "$CONFDIR: fix the config errors above, then run:"
        say "  $VENV/bin/commwatch db upgrade -c $CONFDIR   (before starting the service)"
    fi
fi

cat <<EOF
install.sh: done. Next:
  edit $CONFDIR/nodes.toml, contacts.toml, plan.toml, commwatch.toml
  $VENV/bin/commwatch check-config -c $CONFDIR
  $VENV/bin/commwatch db upgrade -c $CONFDIR   # done above on a real install; safe to repeat
  systemctl enable --now commwatch      # first install
  systemctl restart commwatch           # after an upgrade
EOF
