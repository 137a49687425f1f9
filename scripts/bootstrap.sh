#!/usr/bin/env bash
# Prepares a fresh Debian or Ubuntu machine for amesh: system packages, a release build, and
# `amesh setup` (installs ai-memory 0.6.2 into the cache, about six minutes on two cores the
# first time, and stages the embedder model).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
dpkg -s libfaketime >/dev/null 2>&1 || packages+=(libfaketime)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
# tests/repl.rs drives `amesh repl` in a tmux pseudo-terminal.
command -v tmux >/dev/null 2>&1 || packages+=(tmux)
if ((${#packages[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "bootstrap: installing ${packages[*]}" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

cargo build --release --locked
./target/release/amesh setup
