#!/usr/bin/env bash
# Makes crossclear's development PKI: one CA and leaf certificates whose URI SAN carries the
# holder's identity (spiffe://crossclear/...). See certs/README.md for the identity scheme.
#
# Cost: one openssl process per certificate (EC P-256, key and certificate in one `req` call),
# leaves two at a time. Measured on the 2-core development machine (OpenSSL 3.0): the CA plus 10
# leaves take about 0.37 s when the machine is idle (0.5 s one at a time), 2.3-2.6 s while
# parallel compiles load it (load average 8); a re-run that skips everything about 20 ms.
set -euo pipefail

readonly DAYS=825
readonly TRUST_DOMAIN=crossclear

usage() {
  cat <<'EOF'
Usage: make-pki.sh OUT_DIR [--ca-only] [--hub] [--operator] [--auditor]
                   [--region CODE]... [--institution CODE]... [--foreign NAME]... [-v]

Creates OUT_DIR/ca.pem + ca.key once (an existing CA is reused, never overwritten) and the
requested leaves signed by it; leaves that already exist are skipped. With no role option only
the CA is made (--ca-only says so explicitly and refuses role options).

  --hub               hub.pem/.key                     spiffe://crossclear/hub
                      and hub.log.key/.log.pub (the Ed25519 key signing its ledger's
                      checkpoints; docs/log-format.md)
  --operator          operator.pem/.key                spiffe://crossclear/operator
  --auditor           auditor.pem/.key                 spiffe://crossclear/auditor
  --region CODE       region-CODE.pem/.key             spiffe://crossclear/region/CODE (6 digits)
                      and region-CODE.log.key/.log.pub (its checkpoints and cosignatures)
  --institution CODE  institution-CODE.pem/.key        spiffe://crossclear/institution/CODE
                      (1 to 32 characters of [A-Za-z0-9-])
  --foreign NAME      foreign-<NAME, / as ->.pem/.key  spiffe://crossclear/NAME, signed by a
                      separate CA (foreign-ca.pem/.key) that crossclear does not trust
  -v                  say what is made or reused (on stderr)
EOF
}

die() {
  echo "make-pki.sh: $*" >&2
  exit 2
}

verbose=0
log() {
  if ((verbose)); then echo "make-pki.sh: $*" >&2; fi
}

(($# >= 1)) || { usage >&2; exit 2; }
case $1 in
  -h | --help) usage; exit 0 ;;
  -*) die "the first argument must be OUT_DIR, got '$1'" ;;
esac
out=$1
shift

ca_only=0
leaves=() # entries: "file|CN|identity path"
foreign=() # entries: "file|CN|identity path"
while (($#)); do
  case $1 in
    --ca-only) ca_only=1 ;;
    --hub) leaves+=("hub|crossclear-hub|hub") ;;
    --operator) leaves+=("operator|crossclear-operator|operator") ;;
    --auditor) leaves+=("auditor|crossclear-auditor|auditor") ;;
    --region)
      (($# >= 2)) || die "--region needs a CODE"
      [[ $2 =~ ^[0-9]{6}$ ]] || die "region code must be 6 digits, got '$2'"
      leaves+=("region-$2|region-$2|region/$2")
      shift
      ;;
    --institution)
      (($# >= 2)) || die "--institution needs a CODE"
      # At most 32 characters, as certs::kMaxInstitutionCodeLength (a CN holds at most 64).
      [[ $2 =~ ^[A-Za-z0-9-]{1,32}$ ]] ||
        die "institution code must be 1 to 32 characters of [A-Za-z0-9-], got '$2'"
      leaves+=("institution-$2|institution-$2|institution/$2")
      shift
      ;;
    --foreign)
      (($# >= 2)) || die "--foreign needs a NAME (e.g. region/110000)"
      [[ $2 =~ ^[A-Za-z0-9-]+(/[A-Za-z0-9-]+)*$ && ${#2} -le 48 ]] ||
        die "foreign NAME must be [A-Za-z0-9-] segments joined by /, at most 48, got '$2'"
      foreign+=("foreign-${2//\//-}|foreign-${2//\//-}|$2")
      shift
      ;;
    -v) verbose=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done
if ((ca_only)) && ((${#leaves[@]} + ${#foreign[@]} > 0)); then
  die "--ca-only makes only the CA; drop the role options or --ca-only"
fi

umask 077
mkdir -p "$out"
# Serialise concurrent runs on one directory so two of them never race to create a CA.
exec 9>"$out/.make-pki.lock"
flock 9
work=$(mktemp -d "$out/.make-pki.XXXXXX")
trap 'rm -rf "$work"' EXIT

# run_openssl NAME ARGS...: runs openssl quietly; shows its output only if it fails.
run_openssl() {
  local name=$1
  shift
  if ! openssl "$@" >"$work/$name.log" 2>&1; then
    cat "$work/$name.log" >&2
    die "openssl $1 failed for $name"
  fi
}

# Moves a freshly made key/cert pair into place: key first, each by an atomic rename.
install_pair() {
  local name=$1
  chmod 600 "$work/$name.key"
  chmod 644 "$work/$name.pem"
  mv -f "$work/$name.key" "$work/$name.pem" "$out/"
}

# make_ca NAME CN: OUT_DIR/NAME.pem + NAME.key, a self-signed CA; an existing one is kept.
make_ca() {
  local name=$1 cn=$2
  if [[ -e $out/$name.pem && -e $out/$name.key ]]; then
    log "reusing $out/$name.pem"
    return
  fi
  if [[ -e $out/$name.pem || -e $out/$name.key ]]; then
    die "$out has only one of $name.pem and $name.key; refusing to replace a CA"
  fi
  printf '%s\n' "[req]" "distinguished_name = dn" "prompt = no" \
    "[dn]" "O = crossclear development" "CN = $cn" \
    "[ca_ext]" "basicConstraints = critical, CA:TRUE, pathlen:0" \
    "keyUsage = critical, keyCertSign, cRLSign" "subjectKeyIdentifier = hash" \
    >"$work/$name.cnf"
  run_openssl "$name" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -sha256 \
    -days "$DAYS" -config "$work/$name.cnf" -extensions ca_ext \
    -keyout "$work/$name.key" -out "$work/$name.pem"
  install_pair "$name"
  log "made $out/$name.pem"
}

# have_pair FILE: true (and says so) when OUT_DIR/FILE.pem and FILE.key both exist.
have_pair() {
  if [[ -e $out/$1.pem && -e $out/$1.key ]]; then
    log "keeping $out/$1.pem"
    return 0
  fi
  return 1
}

# make_leaf "FILE|CN|IDENTITY" CA: OUT_DIR/FILE.pem + FILE.key signed by OUT_DIR/CA.pem, with
# URI SAN spiffe://crossclear/IDENTITY plus DNS:localhost and IP:127.0.0.1 (any leaf may serve
# on loopback). Replaces a half-present pair.
make_leaf() {
  local file cn identity ca=$2
  IFS='|' read -r file cn identity <<<"$1"
  printf '%s\n' "[req]" "distinguished_name = dn" "prompt = no" \
    "[dn]" "O = crossclear development" "CN = $cn" \
    "[leaf_ext]" "basicConstraints = critical, CA:FALSE" \
    "keyUsage = critical, digitalSignature" "extendedKeyUsage = serverAuth, clientAuth" \
    "subjectAltName = URI:spiffe://$TRUST_DOMAIN/$identity, DNS:localhost, IP:127.0.0.1" \
    "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" >"$work/$file.cnf"
  run_openssl "$file" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -sha256 \
    -days "$DAYS" -config "$work/$file.cnf" -extensions leaf_ext \
    -CA "$out/$ca.pem" -CAkey "$out/$ca.key" \
    -keyout "$work/$file.key" -out "$work/$file.pem"
  install_pair "$file"
  log "made $out/$file.pem (spiffe://$TRUST_DOMAIN/$identity)"
}

# make_log_key FILE: OUT_DIR/FILE.log.key (PKCS#8 PEM Ed25519 private key, 0600) and
# FILE.log.pub (its SubjectPublicKeyInfo PEM): the key a party signs its ledger checkpoints (and
# a region its cosignatures of the hub's) with. An existing pair is kept.
make_log_key() {
  local file=$1
  if [[ -e $out/$file.log.key && -e $out/$file.log.pub ]]; then
    log "keeping $out/$file.log.key"
    return
  fi
  run_openssl "$file.log" genpkey -algorithm ed25519 -out "$work/$file.log.key"
  run_openssl "$file.log" pkey -in "$work/$file.log.key" -pubout -out "$work/$file.log.pub"
  chmod 600 "$work/$file.log.key"
  chmod 644 "$work/$file.log.pub"
  mv -f "$work/$file.log.key" "$work/$file.log.pub" "$out/"
  log "made $out/$file.log.key"
}

# Leaves are independent: make them two at a time (the development machine has 2 cores).
pids=()
wait_all() {
  local pid failed=0
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  pids=()
  ((failed == 0)) || exit 2
}
spawn() {
  "$@" &
  pids+=($!)
  if ((${#pids[@]} >= 2)); then wait_all; fi
}

make_ca ca "crossclear development CA"
if ((${#foreign[@]} > 0)); then
  make_ca foreign-ca "crossclear foreign test CA (untrusted)"
fi
declare -A seen=() # a role named twice is made once (two jobs must never share a file)
for leaf in "${leaves[@]}"; do
  [[ -z ${seen[$leaf]:-} ]] || continue
  seen[$leaf]=1
  have_pair "${leaf%%|*}" || spawn make_leaf "$leaf" ca
  case ${leaf%%|*} in
    hub | region-*) make_log_key "${leaf%%|*}" ;;
  esac
done
for leaf in "${foreign[@]}"; do
  [[ -z ${seen[$leaf]:-} ]] || continue
  seen[$leaf]=1
  have_pair "${leaf%%|*}" || spawn make_leaf "$leaf" foreign-ca
done
wait_all
