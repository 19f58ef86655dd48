#!/bin/bash
# fetch-lwip.sh BUILD_DIR: put lwIP 2.1.3 sources from Debian's `lwip` source
# package under BUILD_DIR/lwip/src (never in the repository). The tarball is
# cached in BUILD_DIR/lwip-cache, so later builds stay offline. apt is pointed
# at a private deb-src list and private state directories: the machine's own
# apt configuration is never changed (platform-notes.md).
set -euo pipefail

BUILD=${1:?usage: fetch-lwip.sh BUILD_DIR}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
VERSION=2.1.3
CACHE=$BUILD/lwip-cache
DEST=$BUILD/lwip
STAMP=$DEST/.unpacked-$VERSION

[ -f "$STAMP" ] && exit 0
mkdir -p "$CACHE"
tarball=$(ls "$CACHE"/lwip_"$VERSION"*.orig.tar.* 2>/dev/null | head -n1 || true)
if [ -z "$tarball" ]; then
    echo "fetch-lwip.sh: fetching Debian's lwip $VERSION source package"
    apt_dir=$CACHE/apt
    mkdir -p "$apt_dir/lists/partial"
    src_list=$apt_dir/sources.list
    : >"$src_list"
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" >"$apt_dir/$(basename "$f")"
    done
    if [ -f /etc/apt/sources.list ]; then
        sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >"$src_list"
    fi
    opts=(-o "Dir::Etc::sourcelist=$src_list" -o "Dir::Etc::sourceparts=$apt_dir"
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
          -o "Debug::NoLocking=1" -q)
    mkdir -p "$apt_dir/cache/archives/partial"
    apt-get "${opts[@]}" update >"$apt_dir/update.log" 2>&1 ||
        { cat "$apt_dir/update.log" >&2; echo "fetch-lwip.sh: apt-get update failed" >&2; exit 1; }
    (cd "$CACHE" && apt-get "${opts[@]}" source --download-only lwip ) ||
        { echo "fetch-lwip.sh: could not download the lwip source package" >&2; exit 1; }
    tarball=$(ls "$CACHE"/lwip_"$VERSION"*.orig.tar.* 2>/dev/null | head -n1 || true)
    [ -n "$tarball" ] || { echo "fetch-lwip.sh: no lwip $VERSION tarball after download" >&2; exit 1; }
fi
rm -rf "$DEST"
mkdir -p "$DEST"
tar -xf "$tarball" -C "$DEST" --strip-components=1
[ -f "$DEST/src/core/tcp.c" ] || { echo "fetch-lwip.sh: $tarball has no src/core/tcp.c" >&2; exit 1; }
touch "$STAMP"
echo "fetch-lwip.sh: lwip $VERSION in $DEST"
