#!/usr/bin/env bash
# Builds the iOS XCFramework of sportello-mobile and puts it, with the generated Swift bindings,
# into the SportelloMobile Swift package. macOS with Xcode and rustup only.
#
# Usage: mobile-samples/ios/build-xcframework.sh [--debug]
#
#   device:    aarch64-apple-ios
#   simulator: aarch64-apple-ios-sim + x86_64-apple-ios-sim (one fat library, lipo)
#
# Writes SportelloMobile/SportelloMobileFFI.xcframework and
# SportelloMobile/Sources/SportelloMobile/SportelloMobile.swift (both gitignored).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
package="$here/SportelloMobile"
profile=release
[[ ${1:-} == --debug ]] && profile=debug
cargo_profile=()
[[ $profile == release ]] && cargo_profile=(--release)

[[ $(uname -s) == Darwin ]] || { echo "build-xcframework.sh: needs macOS with Xcode" >&2; exit 2; }
cd "$root"

# Match the app's deployment target (project.yml), or the linker warns about every object file.
export IPHONEOS_DEPLOYMENT_TARGET=16.0
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios-sim)
rustup target add "${targets[@]}"
for target in "${targets[@]}"; do
    cargo build -p sportello-mobile --lib "${cargo_profile[@]}" --target "$target"
done

# The Swift source, header and module map come from the host library: same crate, same API.
scripts/bindings "${cargo_profile[@]}"

target_dir="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
work="$root/build/ios"
rm -rf "$work" "$package/SportelloMobileFFI.xcframework"
mkdir -p "$work/simulator"
lipo -create \
    "$target_dir/aarch64-apple-ios-sim/$profile/libsportello_mobile.a" \
    "$target_dir/x86_64-apple-ios-sim/$profile/libsportello_mobile.a" \
    -output "$work/simulator/libsportello_mobile.a"

headers="$root/build/bindings/swift/include" # SportelloMobileFFI.h + module.modulemap
xcodebuild -create-xcframework \
    -library "$target_dir/aarch64-apple-ios/$profile/libsportello_mobile.a" -headers "$headers" \
    -library "$work/simulator/libsportello_mobile.a" -headers "$headers" \
    -output "$package/SportelloMobileFFI.xcframework"

cp "$root/build/bindings/swift/SportelloMobile.swift" "$package/Sources/SportelloMobile/"
echo "build-xcframework.sh: $package is ready; next: cd mobile-samples/ios && xcodegen generate" >&2
