#!/usr/bin/env bash
# Make sure a Chromium is there for the browser tests; install Debian's when it is not.
# CHROMIUM_PATH points the tests at another Chromium or Chrome binary.
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ]; then
    [ -x "$CHROMIUM_PATH" ] && exit 0
    echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file." >&2
    exit 1
fi
command -v chromium >/dev/null 2>&1 && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "The browser tests need Chromium: install it, or set CHROMIUM_PATH to its binary." >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif sudo -n true 2>/dev/null; then
    sudo="sudo"
else
    echo "The browser tests need Chromium: run 'sudo apt-get install chromium' once." >&2
    exit 1
fi
echo "Installing Debian's chromium for the browser tests"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q chromium
