#!/bin/sh
# Issues a TSU certificate variant from a development PKI's issuing CA, for the start-up refusal tests.
#
#   make-tsu-cert.sh STATE_DIR VARIANT OUT_DIR
#
# Writes OUT_DIR/tsu.pem and OUT_DIR/tsu.key (a fresh EC P-256 key, PKCS#8 PEM). VARIANT:
#   good              critical EKU id-kp-timeStamping alone (the control case: must be accepted)
#   eku-not-critical  EKU id-kp-timeStamping, not critical
#   eku-extra         critical EKU id-kp-timeStamping + serverAuth
#   no-eku            no extended key usage at all
#   expired           a good profile, valid 2020-01-01 .. 2021-01-01 (openssl ca -startdate/-enddate, OpenSSL 3.0)
#   key-mismatch      a good certificate; tsu.key is ANOTHER fresh key, not the certificate's
set -eu

state=$1
variant=$2
out=$3
ca_cert="$state/pki/issuing-ca.pem"
ca_key="$state/keys/issuing-ca.key"
mkdir -p "$out"
work="$out/work"
rm -rf "$work"
mkdir -p "$work"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/tsu.key" 2>/dev/null
openssl req -new -key "$out/tsu.key" -subj "/C=DE/O=Sigillum Tests/CN=TSU $variant" -out "$work/tsu.csr"

case $variant in
good | expired | key-mismatch) eku="critical, timeStamping" ;;
eku-not-critical) eku="timeStamping" ;;
eku-extra) eku="critical, timeStamping, serverAuth" ;;
no-eku) eku="" ;;
*)
    echo "make-tsu-cert.sh: unknown variant $variant" >&2
    exit 2
    ;;
esac

{
    echo "[tsu]"
    echo "basicConstraints = critical, CA:FALSE"
    echo "keyUsage = critical, digitalSignature"
    echo "subjectKeyIdentifier = hash"
    echo "authorityKeyIdentifier = keyid"
    if [ -n "$eku" ]; then echo "extendedKeyUsage = $eku"; fi
} >"$work/ext.cnf"

if [ "$variant" = expired ]; then
    # OpenSSL 3.0 has no `x509 -not_before`; `ca` takes explicit dates.
    : >"$work/index.txt"
    echo 1000 >"$work/serial"
    cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = $work/index.txt
serial = $work/serial
new_certs_dir = $work
default_md = sha384
policy = anything
unique_subject = no
copy_extensions = none
[anything]
countryName = optional
organizationName = optional
commonName = supplied
CNF
    openssl ca -batch -config "$work/ca.cnf" -cert "$ca_cert" -keyfile "$ca_key" -in "$work/tsu.csr" \
        -out "$work/tsu.crt" -startdate 20200101000000Z -enddate 20210101000000Z \
        -extfile "$work/ext.cnf" -extensions tsu -notext 2>"$work/ca.log"
    openssl x509 -in "$work/tsu.crt" -out "$out/tsu.pem"
else
    openssl x509 -req -in "$work/tsu.csr" -CA "$ca_cert" -CAkey "$ca_key" -set_serial "0x$(openssl rand -hex 8)" \
        -days 30 -sha384 -extfile "$work/ext.cnf" -extensions tsu -out "$out/tsu.pem" 2>/dev/null
fi

if [ "$variant" = key-mismatch ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/tsu.key" 2>/dev/null
fi
chmod 600 "$out/tsu.key"
