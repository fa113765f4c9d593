# shellcheck shell=bash
# The Kotlin tests of the generated bindings on a JVM (Maven, mobile-samples/jvm), for the scripts
# that start a server for them: scripts/lib/mobile-tests.sh (every test class) and
# tests/spid-cie-oidc/run (SpidLoginTest, against the local SPID/CIE federation).
#
# Usage:
#   source scripts/lib/jvm-tests.sh
#   jvm_tests_ensure_maven || exit 1   # before the slow steps: fail early without Maven
#   scripts/bindings                   # the Kotlin sources and the native library, build/bindings
#   jvm_tests_compile                  # the bindings and the tests, unless compiled already
#   jvm_tests surefire:test [-Dtest=…] # the tests read SPORTELLO_TEST_* from the environment
#
# Environment: MVN, the Maven command (default: mvn); MAVEN_ARGS, words passed on to it (e.g.
# MAVEN_ARGS=-o to run offline once the dependencies are cached).

# Installs Maven and a JDK with apt-get when missing and running as root on Debian; otherwise
# fails with what to install.
jvm_tests_ensure_maven() {
    command -v "${MVN:-mvn}" >/dev/null && return 0
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        printf 'jvm-tests: installing Maven and a JDK (apt-get)\n' >&2
        apt-get update -qq && apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null
    else
        printf 'jvm-tests: Maven not found: install maven and a JDK 17+\n' >&2
        return 1
    fi
}

# Runs Maven on mobile-samples/jvm with the goals and options $@, on the bindings of
# build/bindings (scripts/bindings).
jvm_tests() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    # shellcheck disable=SC2086 # MAVEN_ARGS is a list of words
    ${MVN:-mvn} -B -ntp ${MAVEN_ARGS:-} -f "$root/mobile-samples/jvm/pom.xml" \
        -Dsportello.bindings.dir="$root/build/bindings" "$@"
}

# Compiles the generated bindings and the tests (`clean test-compile`), unless
# mobile-samples/jvm/target holds them compiled from the same generated Kotlin, test sources and
# pom already: in scripts/test, tests/spid-cie-oidc/run compiles and scripts/lib/mobile-tests.sh
# runs on the same classes (the compiler is most of either's time).
jvm_tests_compile() {
    local root stamp sources
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    stamp="$root/mobile-samples/jvm/target/compiled-from.sha256"
    sources="$(cd "$root" && find build/bindings/kotlin mobile-samples/jvm/src mobile-samples/jvm/pom.xml \
        -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)"
    if [[ -f $stamp && $(<"$stamp") == "$sources" ]]; then
        printf 'jvm-tests: mobile-samples/jvm/target is compiled from these sources already\n' >&2
        return 0
    fi
    jvm_tests -q clean test-compile && printf '%s\n' "$sources" >"$stamp"
}
