#!/usr/bin/env sh
# Makes the TLS material NATS runs with in docker compose (deploy/nats/nats-server.conf): a CA of the
# installation's own, and the server's certificate signed by it, for the names the server is reached by.
#   deploy/nats/make-certs.sh [directory] [extra name ...]
# Writes <directory>/ca.pem, ca.key, server.pem, server.key (default directory: deploy/nats/tls, which git
# ignores: nothing private is committed). Apps and agents trust ca.pem (NATS_TLS_CA_FILE, a tls:// URL). An
# agent reaching the server by another name (its public host name) needs that name among the extra names.
# Keep ca.key offline once the certificate is made; run again (with a new directory) to renew.
set -eu
dir=${1:-"$(dirname "$0")/tls"}
[ $# -gt 0 ] && shift
mkdir -p "$dir"
cd "$dir"
names="DNS:nats,DNS:localhost,DNS:nats.nats.svc,DNS:nats.nats.svc.cluster.local,IP:127.0.0.1"
for name in "$@"; do names="$names,DNS:$name"; done
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
  -days 3650 -subj "/CN=event-service NATS CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
  -subj "/CN=nats" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$names" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -out server.pem \
  -extfile server.ext 2>/dev/null
rm -f server.csr server.ext ca.srl
# The server process reads its key; the certificates are public.
chmod 644 ca.pem server.pem
chmod 640 server.key
echo "wrote $dir/ca.pem, ca.key, server.pem, server.key (names: $names)"
