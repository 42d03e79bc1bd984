#!/usr/bin/env bash
# Installs the Debian packages whose servers the test suite starts itself (OpenSSH's sshd
# and sftp-server for the SFTP backend) and the browser the web app tests drive (chromium:
# Playwright downloads no browser here), only when they are missing. Without root or apt
# it says what is missing and leaves it: those tests then skip (and fail under CI=true).
set -eu
missing=()
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing ${missing[*]}; install with your package manager (apt-get install ${missing[*]})" >&2
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
