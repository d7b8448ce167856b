#!/bin/sh
# Builds examples/hello offline: the busybox base image is made from Debian's busybox-static
# (fixtures/make-base-images.ts) into a private tsbuild root, then the built CLI runs the build.
# Run from anywhere after `npm ci` (which compiles dist/ and the native helpers).
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
work="$repo/examples/hello/.tsbuild-example"
export TSBUILD_ROOT="$work/root"
node --import tsx fixtures/make-base-images.ts "$work/fixtures" --root "$TSBUILD_ROOT"
bin/tsbuild.cjs build -t hello examples/hello \
  --output "type=oci,dest=$work/hello.oci.tar" \
  --iidfile "$work/hello.iid" "$@"
echo "image ID $(cat "$work/hello.iid"); OCI archive: $work/hello.oci.tar" >&2
