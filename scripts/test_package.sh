#!/usr/bin/env bash
# Builds the Debian package from an existing build (default build/, as scripts/setup.sh made it) and
# checks it: its Depends (from dpkg-shlibdeps), its files (binary, bash completion, man page), then
# installs it and runs `actsearch space --count` from the installed path. As root it installs with
# dpkg -i and removes it again; otherwise (or when an actsearch package is already installed) it
# unpacks it with dpkg -x into a temporary root.
# Usage: bash scripts/test_package.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
start=$SECONDS
fail() { echo "test_package: $*" >&2; exit 1; }

[ -x "$build/actsearch" ] || fail "no $build/actsearch: run scripts/setup.sh first"
cmake --build "$build" -j"$(nproc)" --target actsearch actsearch_docs > "$build/package.log" 2>&1 ||
  { tail -n 30 "$build/package.log"; fail "build failed"; }
rm -f "$build"/actsearch_*.deb
(cd "$build" && cpack -G DEB >> package.log 2>&1) || { tail -n 30 "$build/package.log"; fail "cpack failed"; }
version=$("$build/actsearch" --version)
deb="$build/actsearch_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "cpack did not write $deb"

info=$(dpkg-deb --field "$deb" Package Version Depends)
echo "$info"
for lib in libc6 libstdc++6 libsqlite3 libfmt libgomp1 zlib1g libdnnl; do
  grep -q "^Depends:.*$lib" <<< "$info" || fail "Depends lacks $lib"
done
contents=$(dpkg-deb --contents "$deb")
for f in ./usr/bin/actsearch ./usr/share/bash-completion/completions/actsearch ./usr/share/man/man1/actsearch.1.gz \
         ./usr/share/actsearch/spaces/paper-core1.space ./usr/share/actsearch/tasks/fmnist-cnn.task \
         ./usr/share/actsearch/tasks/README.md; do
  grep -q " $f\$" <<< "$contents" || fail "the package lacks $f"
done

if [ "$(id -u)" -eq 0 ] && ! dpkg-query -W -f='${Status}' actsearch 2>/dev/null | grep -q "install ok installed"; then
  dpkg -i "$deb" > /dev/null
  trap 'dpkg -r actsearch > /dev/null' EXIT
  root=""
  how="dpkg -i"
else
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  dpkg -x "$deb" "$root"
  how="dpkg -x into $root"
fi
bin="$root/usr/bin/actsearch"
[ "$("$bin" --version)" = "$version" ] || fail "$bin --version is not $version"
# From another directory: nothing may come from the source tree.
count=$(cd / && "$bin" space --count) || fail "$bin space --count failed"
echo "$count"
grep -q "6250" <<< "$count" || fail "space --count did not count paper-core1's 6,250 candidates"
# An installed task file trains from anywhere; the shipped synthetic.task is the built-in synthetic task.
trained=$(cd / && "$bin" eval 'relu(x)' --task "$root/usr/share/actsearch/tasks/synthetic.task" --steps 5 --format csv --no-db) ||
  fail "eval on the installed synthetic.task failed"
grep -q "^relu(x),synthetic," <<< "$trained" || fail "the installed synthetic.task is not the synthetic task: $trained"
zcat "$root/usr/share/man/man1/actsearch.1.gz" | grep -q '^\.SS search' || fail "the man page has no search section"
# The completion completes a command and an option's values.
completion="$root/usr/share/bash-completion/completions/actsearch"
words=$(bash -c 'source "$1"; COMP_WORDS=(actsearch sea); COMP_CWORD=1; _actsearch; echo "${COMPREPLY[*]}"' _ "$completion")
[ "$words" = "search" ] || fail "completion of 'actsearch sea' gave '$words'"
words=$(bash -c 'source "$1"; COMP_WORDS=(actsearch search --strategy ""); COMP_CWORD=3; _actsearch; echo "${COMPREPLY[*]}"' _ "$completion")
grep -q "evolution" <<< "$words" || fail "completion of --strategy gave '$words'"

if [ -z "$root" ]; then
  dpkg -r actsearch > /dev/null
  trap - EXIT
  [ ! -e /usr/bin/actsearch ] || fail "dpkg -r left /usr/bin/actsearch"
fi
echo "test_package: $deb installed ($how), ran and was removed in $((SECONDS - start)) s"
