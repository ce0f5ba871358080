#!/usr/bin/env bash
# Debian packages the tests need: Chromium for browser tests, PostgreSQL for the
# data-layer tests, HAProxy for the two-instance tests (deploy/haproxy.cfg), Node.js for the OpenID Connect test provider and the /webgpu page, and the
# Debian manuals (PDFs) of the retrieval evaluation set (bench/retrieval_set/questions.jsonl).
# Installed once; a machine that has them skips this.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null || missing+=(haproxy)
command -v npm >/dev/null || missing+=(nodejs npm)
[ -f /usr/share/doc/camlidl/camlidl-1.04.doc.pdf ] || missing+=(camlidl-doc)
[ -f /usr/share/doc/gnuplot/gnuplot.pdf ] || missing+=(gnuplot-doc)
[ -f /usr/share/doc/asymptote/asymptote.pdf ] || missing+=(asymptote-doc)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
