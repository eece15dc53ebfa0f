#!/usr/bin/env bash
# Builds the release package: dist/stablegate-<version>-linux-<arch>.tar.gz and its .sha256.
#
# It holds a release binary with the Swift runtime and Foundation linked statically
# (--static-swift-stdlib: no Swift toolchain on the server), the resources the binary loads
# next to it, the sandbox chain (tools/sandbox-chain), the service files (deploy/), the README
# and docs. The version is BuildInfo.version (Sources/StableGateApp/Operations/BuildInfo.swift);
# the commit is compiled in with -DSTABLEGATE_COMMIT, so the working tree is left as it was
# (a build made any other way reports the commit "dev"). A tree with uncommitted changes to
# tracked files is packaged as "<sha>-dirty".
#
# The server needs only the C libraries the gateway links (README "Operate"): libsecp256k1,
# libqrencode and libcrypt. A release build takes 10–15 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^ *public static let version = "\([^"]*\)".*/\1/p' Sources/StableGateApp/Operations/BuildInfo.swift)
[ -n "$version" ] || { echo "package: no version in Sources/StableGateApp/Operations/BuildInfo.swift" >&2; exit 1; }
commit=$(git rev-parse --short=12 HEAD)
git diff --quiet HEAD -- || commit="$commit-dirty"
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) arch=$(uname -m) ;;
esac
name="stablegate-$version-linux-$arch"

echo "== release build of $version ($commit), Swift runtime linked statically"
swift build -c release --product stablegate --static-swift-stdlib -Xcc "-DSTABLEGATE_COMMIT=\"$commit\""
bin_dir=$(swift build -c release --static-swift-stdlib --show-bin-path)

stage="dist/$name"
rm -rf "$stage" "dist/$name.tar.gz" "dist/$name.tar.gz.sha256"
mkdir -p "$stage/bin" "$stage/tools"
install -m 755 "$bin_dir/stablegate" "$stage/bin/stablegate"
# Debug info out, the symbol table kept: crash backtraces still name functions.
strip --strip-debug "$stage/bin/stablegate"
# Resource bundles (templates, assets, the OpenAPI document, the FX snapshot): Bundle.module
# looks for them next to the executable.
for bundle in "$bin_dir"/*.resources; do
  [ -e "$bundle" ] && cp -R "$bundle" "$stage/bin/"
done
cp -R tools/sandbox-chain "$stage/tools/"
rm -rf "$stage/tools/sandbox-chain/__pycache__"
cp -R deploy docs "$stage/"
cp README.md "$stage/"

echo "== checking the staged binary without a toolchain"
# Every shared library must come from the system, none from the Swift toolchain.
if ldd "$stage/bin/stablegate" | grep -E 'libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime|not found'; then
  echo "package: the binary needs the libraries above (a Swift toolchain library, or one not installed)" >&2
  exit 1
fi
reported=$(cd "$stage" && env -i PATH=/usr/bin:/bin ./bin/stablegate --version)
[ "$reported" = "stablegate $version (commit $commit)" ] || {
  echo "package: the binary reports \"$reported\", expected \"stablegate $version (commit $commit)\"" >&2
  exit 1
}

# Reproducible: fixed owner, order and times (the commit's).
mtime=$(git log -1 --format=%ct)
tar -C dist --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" -czf "dist/$name.tar.gz" "$name"
(cd dist && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "== $reported"
echo "dist/$name.tar.gz  $(du -h "dist/$name.tar.gz" | cut -f1)  ($(stat -c %s "dist/$name.tar.gz") bytes)"
echo "dist/$name.tar.gz.sha256  $(cut -d' ' -f1 "dist/$name.tar.gz.sha256")"
