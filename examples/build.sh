#!/usr/bin/env bash
# Builds what the example services need; fast when nothing changed.
#   kafka-streams/target/streams-example.jar   mvn -q -B package (skipped while newer than pom.xml and src/)
#   python-postgres/.venv                      python3 -m venv + pip install -r requirements.txt
#                                              (skipped while requirements.txt is unchanged)
# Usage: examples/build.sh [streams|python]...   (no argument: all)
# Needs: Java 17+ and Maven for streams; Python 3.9+ with venv for python. Both fetch their
# dependencies from Maven Central and PyPI on the first build.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(streams python)

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

build_streams() {
  local dir="$here/kafka-streams" jar="$here/kafka-streams/target/streams-example.jar" start
  start="$(now)"
  if [ -f "$jar" ] && [ -z "$(find "$dir/pom.xml" "$dir/src" -newer "$jar" -print -quit)" ]; then
    echo "streams: $jar is up to date ($(took "$start"))"
    return
  fi
  command -v mvn >/dev/null || { echo "streams: mvn not found (install Apache Maven and Java 17+)" >&2; exit 1; }
  echo "streams: mvn -q -B package in $dir"
  local log="$dir/target/build.log"
  mkdir -p "$dir/target"
  if ! (cd "$dir" && mvn -q -B -Dstyle.color=never package) >"$log" 2>&1; then
    cat "$log" >&2
    echo "streams: mvn package failed (log: $log)" >&2
    exit 1
  fi
  echo "streams: built $jar ($(took "$start"))"
}

build_python() {
  local dir="$here/python-postgres" venv="$here/python-postgres/.venv" stamp start
  stamp="$venv/.requirements.txt"
  start="$(now)"
  if [ -x "$venv/bin/python" ] && cmp -s "$dir/requirements.txt" "$stamp"; then
    echo "python: $venv is up to date ($(took "$start"))"
    return
  fi
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || { echo "python: $python not found" >&2; exit 1; }
  echo "python: $python -m venv $venv && pip install -r requirements.txt"
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$dir/requirements.txt"
  cp "$dir/requirements.txt" "$stamp"
  echo "python: built $venv ($(took "$start"))"
}

for t in "${targets[@]}"; do
  case "$t" in
    streams) build_streams ;;
    python) build_python ;;
    *) echo "usage: $0 [streams|python]..." >&2; exit 2 ;;
  esac
done
