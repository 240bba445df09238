#!/usr/bin/env bash
# Runs the README's quick start verbatim, as root, in a fresh Debian 12 root: a minbase
# debootstrap with no Python, no pip, no pyenv and empty apt lists (what a container image
# has), the checkout cloned into /root/flywheel-harness, then every `sh` block of the README's
# "Two commands on a fresh machine" section, in order, in one login shell that stops at the
# first failing command. Needs root, debootstrap and the Debian mirror; not part of
# `nox -s tests`. docs/development.md describes it.
#
#   tests/debian/quickstart.sh [options] [CLONE]      CLONE: a git repository (default: .)
#     --root DIR       the Debian root to (re)create (default /srv/deb12)
#     --base FILE      a tarball of the debootstrap base, made on first use (default DIR.tgz)
#     --ca FILE        a CA certificate the network needs (a TLS-intercepting proxy): added
#                      to the root's trust store, as a site's own machines would have it
#     --tour           afterwards, the README tour's install line and its pytest example
#     --without-tests  leave out the quick start's `nox -s tests` line (the long one)
#     --keep           leave the root mounted and in place for a look around
set -euo pipefail

ROOT=/srv/deb12
BASE=
CAS=()
TOUR=0
TESTS=1
KEEP=0
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$2; shift 2 ;;
    --base) BASE=$2; shift 2 ;;
    --ca) CAS+=("$2"); shift 2 ;;
    --tour) TOUR=1; shift ;;
    --without-tests) TESTS=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
CLONE=$(cd "${1:-.}" && pwd)
BASE=${BASE:-$ROOT.tgz}
[ "$(id -u)" = 0 ] || { echo "quickstart.sh needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
case "$ROOT" in /|/bin|/boot|/dev|/etc|/home|/lib*|/proc|/root|/run|/sbin|/sys|/usr|/var)
  echo "refusing --root $ROOT" >&2; exit 2 ;;
esac

unmount() {
  for dir in dev sys proc; do
    if mountpoint -q "$ROOT/$dir"; then umount -R "$ROOT/$dir" || umount -lR "$ROOT/$dir"; fi
  done
}

fresh_root() {
  unmount
  if findmnt -rn -o TARGET | grep -q "^$ROOT/"; then
    echo "something is still mounted under $ROOT: not removing it" >&2; exit 1
  fi
  rm -rf --one-file-system "$ROOT"
  if [ ! -f "$BASE" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
    debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/dev/null
    tar -C "$ROOT" -czf "$BASE" .
  else
    mkdir -p "$ROOT"
    tar -C "$ROOT" -xzf "$BASE"
  fi
  # What a Debian 12 container image has: the three suites, no package lists yet, and no
  # services started by package scripts (nginx's would listen on the host's port 80).
  rm -f "$ROOT/etc/apt/sources.list"
  cat > "$ROOT/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  rm -rf "$ROOT"/var/lib/apt/lists/*
  printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  for ca in "${CAS[@]}"; do
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp "$ca" "$ROOT/usr/local/share/ca-certificates/$(basename "${ca%.*}").crt"
  done
}

fresh_root
trap '[ "$KEEP" = 1 ] || unmount' EXIT
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys" && mount --make-rslave "$ROOT/sys"
mount --rbind /dev "$ROOT/dev" && mount --make-rslave "$ROOT/dev"

git clone -q "$CLONE" "$ROOT/root/flywheel-harness"
{
  echo "set -e -o pipefail"
  echo "cd /root/flywheel-harness"
  echo "set -v"
  if [ "$TESTS" = 1 ]; then
    python3 "$CLONE/tests/helpers/readme.py" "$CLONE/README.md"
  else
    python3 "$CLONE/tests/helpers/readme.py" "$CLONE/README.md" | grep -v '^nox -s tests'
  fi
  if [ "$TOUR" = 1 ]; then
    # The tour's install line and pytest example, on this repository and the docs example.
    python3 "$CLONE/tests/helpers/readme.py" "$CLONE/README.md" "## A short tour" |
      grep -E '(pip install \.|^pytest scenarios/)' | sed 's#--harness-repo=../some-repo#--harness-repo=.#'
  fi
} > "$ROOT/root/quickstart.sh"
echo "== the quick start, from $CLONE/README.md =="
cat "$ROOT/root/quickstart.sh"
echo "== running it in $ROOT =="

# A login shell of root, with the environment of a fresh machine, not of this one. Like a
# container, the root is a mount namespace's own (pivot_root): inside a plain chroot the
# kernel refuses the user namespaces that Nix's build sandbox needs.
status=0
unshare --mount --propagation private --fork /bin/sh -c '
  mount --rbind "$1" "$1" && cd "$1" && mkdir -p .old-root && pivot_root . .old-root &&
    cd / && umount -l /.old-root && rmdir /.old-root || exit 125
  exec /usr/bin/env -i HOME=/root TERM="$2" LANG=C.UTF-8 USER=root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -l /root/quickstart.sh' sh "$ROOT" "${TERM:-dumb}" </dev/null || status=$?
echo "== the quick start exited $status =="
exit "$status"
