#!/usr/bin/env sh
# Create the worker's HMAC key and the gateway's key file in DIR, once.
#   scripts/gen-keys.sh DIR [AGENT_ID]
# Writes DIR/gateway-keys.json and DIR/agent.json (schemas: src/signing/keys.ts), mode 0600 in a
# 0700 directory. Never prints a secret. Leaves existing files alone; refuses a half-present
# pair rather than create a key the other side does not know.
# POSIX sh on purpose: it also runs inside the node:20-slim image (docker-compose keys-init).
set -eu
umask 077

dir=${1:?usage: gen-keys.sh DIR [AGENT_ID]}
agent=${2:-dockmedic-worker}
gw="$dir/gateway-keys.json"
ag="$dir/agent.json"

mkdir -p "$dir"
chmod 700 "$dir"

if [ -s "$gw" ] && [ -s "$ag" ]; then
  # Tighten modes someone loosened; the content is theirs.
  chmod 600 "$gw" "$ag"
  echo "present"
  exit 0
fi
# Interrupted between the two renames below: the gateway's half is complete under its temporary name.
if [ -s "$ag" ] && [ ! -e "$gw" ] && [ -s "$gw.tmp" ]; then
  kid=$(sed -n 's/.*"keyId":"\([^"]*\)".*/\1/p' "$ag")
  if [ -n "$kid" ] && grep -q "\"keyId\":\"$kid\"" "$gw.tmp"; then
    chmod 600 "$gw.tmp"
    mv "$gw.tmp" "$gw"
    echo "present"
    exit 0
  fi
fi
if [ -e "$gw" ] || [ -e "$ag" ]; then
  echo "only one of $gw and $ag exists: restore the other, or remove both to generate a new pair" >&2
  exit 1
fi

hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
secret=$(hex 32)
key_id="k-$(date -u +%Y%m%d)-$(hex 4)"
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
case $secret in
  *[!0-9a-f]*) echo "could not read 32 random bytes from /dev/urandom" >&2; exit 1 ;;
esac
[ ${#secret} -eq 64 ] || { echo "could not read 32 random bytes from /dev/urandom" >&2; exit 1; }

# Write both under temporary names, then rename, so an interrupted run leaves no half pair.
printf '{"agents":{"%s":[{"keyId":"%s","secret":"%s","status":"live","createdAt":"%s"}]}}\n' \
  "$agent" "$key_id" "$secret" "$created" >"$gw.tmp"
printf '{"agentId":"%s","keyId":"%s","secret":"%s"}\n' "$agent" "$key_id" "$secret" >"$ag.tmp"
chmod 600 "$gw.tmp" "$ag.tmp"
mv "$ag.tmp" "$ag"
mv "$gw.tmp" "$gw"
echo "created key $key_id for $agent"
