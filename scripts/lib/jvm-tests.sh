# shellcheck shell=bash
# The Kotlin tests of the generated bindings on a JVM (Maven, mobile-samples/jvm), for the scripts
# that start a server for them: scripts/lib/mobile-tests.sh (every test class) and
# tests/spid-cie-oidc/run (SpidLoginTest, against the local SPID/CIE federation).
#
# Usage:
#   source scripts/lib/jvm-tests.sh
#   jvm_tests_ensure_maven || exit 1   # before the slow steps: fail early without Maven
#   scripts/bindings                   # the Kotlin sources and the native library, build/bindings
#   jvm_tests clean test [-Dtest=…]    # the tests read SPORTELLO_TEST_* from the environment
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
