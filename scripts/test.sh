#!/usr/bin/env bash
# Runs every test: unit tests, then integration tests on real ai-memory meshes (the tests
# serialise their meshes with a lock file, one mesh at a time). Needs `scripts/bootstrap.sh`
# to have run once on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --bins
./target/debug/amesh setup
cargo test --locked --all-targets
