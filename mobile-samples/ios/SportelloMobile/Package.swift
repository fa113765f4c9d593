// swift-tools-version:5.9
// The Swift package around the generated bindings of sportello-mobile: the generated
// SportelloMobile.swift (Sources/) over the XCFramework of the static library (with its C header
// and module map, the `SportelloMobileFFI` module). Both are produced by ../build-xcframework.sh.
import PackageDescription

let package = Package(
    name: "SportelloMobile",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "SportelloMobile", targets: ["SportelloMobile"]),
    ],
    targets: [
        .binaryTarget(name: "SportelloMobileFFI", path: "SportelloMobileFFI.xcframework"),
        .target(
            name: "SportelloMobile",
            dependencies: ["SportelloMobileFFI"],
            path: "Sources/SportelloMobile"
        ),
    ]
)
