#!/usr/bin/env bash
# CI's Docker part, run after scripts/test.sh: fails when a Docker engine is reachable but the
# Docker integration tests did not run, then runs a short testbook campaign on the Docker
# backend and checks that it left no amesh container, network or volume behind.
set -euo pipefail
cd "$(dirname "$0")/.."

amesh=./target/release/amesh
if ! "$amesh" mesh status >/dev/null 2>&1; then
  echo "ci-docker: no Docker engine is reachable; the Docker tests and campaign are skipped" >&2
  exit 0
fi

# tests/docker.rs writes one marker per test that ran against the engine.
expected=$(grep -c '^#\[test\]' tests/docker.rs)
ran=$(find target/tmp/docker-tests -name '*.ran' 2>/dev/null | wc -l)
if [ "$ran" -ne "$expected" ]; then
  echo "ci-docker: a Docker engine is reachable but $ran of $expected Docker tests ran (markers in target/tmp/docker-tests)" >&2
  exit 1
fi
echo "ci-docker: $ran Docker tests ran against the engine"

campaign="ci-docker-$(date -u +%Y%m%dT%H%M%S)"
"$amesh" testbook --backend docker --campaign "$campaign" --base-address 127.0.43.11 \
  --docker-subnet 10.88.43.0/24 --scenarios 1b 14 15 25 examples/isolation.lua
echo "docker campaign $campaign passed: runs/$campaign/a2a-summary.json"

# Meshes that live as long as their command must all be gone; `amesh mesh up` meshes may stay.
leftovers=$("$amesh" mesh status --json | python3 -c '
import json, sys
print(sum(1 for mesh in json.load(sys.stdin)["meshes"] if mesh["lifetime"] != "kept"))')
if [ "$leftovers" -ne 0 ]; then
  "$amesh" mesh status >&2
  echo "ci-docker: $leftovers Docker meshes outlived their command" >&2
  exit 1
fi
