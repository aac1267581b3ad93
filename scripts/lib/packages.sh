# Sourced by scripts/setup.sh and scripts/ci_hardening.sh: installs Debian packages that are missing.
#
# ensure_packages WHO PACKAGE...
#   Installs those of the PACKAGEs that dpkg does not list as installed (apt-get as root, through sudo
#   otherwise; no recommended packages), saying which on stdout prefixed with "WHO: ". Idempotent: with
#   everything installed it only says so, and never runs apt-get.
ensure_packages() {
  local who=$1 p sudo=""
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    echo "$who: the $# Debian packages needed are installed"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "$who: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
