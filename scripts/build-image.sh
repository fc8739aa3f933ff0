#!/usr/bin/env bash
# Build the local scenario image dockmedic/scenario:1 when it is missing. No registry is
# reachable here, so the image is a `docker import` of a tiny root filesystem made from
# Debian's busybox-static: a shell and the few tools drill and test containers use.
# Containers from it run with `--network none`.
set -euo pipefail

IMAGE=${DOCKMEDIC_SCENARIO_IMAGE:-dockmedic/scenario:1}  # override only to test this script
BUSYBOX=/bin/busybox
APPLETS=(sh ls cat echo sleep tail head touch rm test true false dd yes env date kill ps grep seq printf
  '[' mkdir tr wc cut sed awk sort uniq id hostname uname stat mktemp xargs base64 sha256sum free)

status() { printf '%-9s %s\n' "$1" "$2"; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  status image "ok ($IMAGE present)"
  exit 0
fi
docker version >/dev/null 2>&1 || { echo "build-image: no Docker engine answers: run scripts/stack.sh start" >&2; exit 1; }
[[ -x $BUSYBOX ]] || { echo "build-image: $BUSYBOX is missing: apt-get install busybox-static" >&2; exit 1; }
# A dynamically linked busybox would not run in an image without a libc.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "build-image: $BUSYBOX is dynamically linked: apt-get install busybox-static" >&2
  exit 1
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev}
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"
cp "$BUSYBOX" "$rootfs/bin/busybox"
for applet in "${APPLETS[@]}"; do ln -s busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
  docker import \
    --change 'CMD ["/bin/sh"]' \
    --change 'ENV PATH=/bin' \
    --change 'LABEL dockmedic.image=scenario' \
    - "$IMAGE" >/dev/null

# Prove it runs before anyone depends on it.
out=$(docker run --rm --network none "$IMAGE" sh -c 'echo ok') || true
if [[ $out != ok ]]; then
  docker image rm "$IMAGE" >/dev/null 2>&1 || true
  echo "build-image: $IMAGE was built but does not run a shell" >&2
  exit 1
fi
status image "built $IMAGE from $BUSYBOX (docker import)"
