#!/usr/bin/env bash
# Creates the secret files docker-compose.yml mounts, in ./secrets/:
#   master.key                 the master key (32 random bytes, 64 hex digits)
#   tokens                     the tokens file: only BLAKE3 hashes of tokens
#   admin.token                a token with role admin, for you (clear)
#   projections-source.token   a token with role tool, for the projections (clear)
#   nats-<user>.password       the NATS password of each user of deploy/nats/authorization.conf
#   nats-server.env            the same, as the NATS nodes read them (NATS_<USER>_PASSWORD=...)
#   nats-admin.env             NATS_USER=admin and its NATS_PASSWORD, for nats-init and the nats CLI
# Existing files are kept: run it again and it only adds what is missing.
# Needs b3sum (Debian/Ubuntu: apt-get install b3sum) to hash the tokens.
#
# The files get owner uid 10001 (the image's maillage user) and mode 0600 so
# that the containers, and only they, can read them: directly when run as
# root, otherwise through a throw-away container (docker run ... chown).
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets

die() { printf 'init-secrets: %s\n' "$*" >&2; exit 1; }
command -v b3sum >/dev/null || die "b3sum is missing (apt-get install b3sum): it hashes the tokens."

# A token as the server makes them: mlg_ + 32 random bytes in base64url, no padding.
new_token() { printf 'mlg_%s' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"; }
hash_of() { printf '%s' "$1" | b3sum --no-names; }

if [ ! -e secrets/master.key ]; then
  head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' > secrets/master.key
  echo "init-secrets: created secrets/master.key: back it up apart from the data volumes"
fi

if [ ! -e secrets/tokens ]; then
  printf '# <blake3 hex of the token> <principal> <roles>\n' > secrets/tokens
fi
# add_token FILE PRINCIPAL ROLES: a new token in FILE (clear), its hash in tokens.
add_token() {
  local file=$1 principal=$2 roles=$3 token
  [ -e "secrets/$file" ] && return
  token=$(new_token)
  printf '%s\n' "$token" > "secrets/$file"
  printf '%s %s %s\n' "$(hash_of "$token")" "$principal" "$roles" >> secrets/tokens
  echo "init-secrets: created secrets/$file (principal $principal, roles $roles)"
}
add_token admin.token admin admin
add_token projections-source.token projections tool

# NATS: one password per user of deploy/nats/authorization.conf.
new_password() { head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
nats_users="admin stakeholders engagement governance projections maillage reader"
for user in $nats_users; do
  if [ ! -e "secrets/nats-$user.password" ]; then
    new_password > "secrets/nats-$user.password"
    echo "init-secrets: created secrets/nats-$user.password"
  fi
done
# The nodes read every password from their environment (remade each run from
# the password files; Compose shows env_file values to whoever can run
# "docker inspect": put bcrypt hashes here instead if that matters to you).
: > secrets/nats-server.env
for user in $nats_users; do
  printf 'NATS_%s_PASSWORD=%s\n' "$(printf %s "$user" | tr a-z A-Z)" "$(cat "secrets/nats-$user.password")" >> secrets/nats-server.env
done
printf 'NATS_USER=admin\nNATS_PASSWORD=%s\n' "$(cat secrets/nats-admin.password)" > secrets/nats-admin.env

# Files the Maillage containers read (uid 10001).
service_files="master.key tokens projections-source.token nats-stakeholders.password nats-engagement.password nats-governance.password nats-projections.password"
chmod 0600 secrets/master.key secrets/tokens secrets/*.token secrets/*.password secrets/*.env
if [ "$(id -u)" = 0 ]; then
  (cd secrets && chown 10001:10001 $service_files)
elif command -v docker >/dev/null; then
  docker run --rm -v "$PWD/secrets:/s" -w /s busybox chown 10001:10001 $service_files
else
  echo "init-secrets: not root and no docker: chown 10001:10001 the files $service_files in secrets/ yourself" >&2
fi
echo "init-secrets: done. Your admin token: secrets/admin.token (kept readable by you only)."
