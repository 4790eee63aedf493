#!/usr/bin/env bash
# Builds a Docker image of a Redis (or Valkey) server from the binary installed
# on this machine, with no registry pull: for air-gapped machines and CI.
#
#   scripts/build-redis-image.sh [server-binary] [image-tag]
#   scripts/build-redis-image.sh /usr/bin/redis-server redkit/redis:local
#   scripts/build-redis-image.sh /usr/bin/valkey-server redkit/valkey:local
#
# The image holds the server and its CLI under the names the official images
# use (redis-server and redis-cli; for Valkey also valkey-server and
# valkey-cli), the shared libraries they load and their dynamic loader: nothing
# else. Use it with REDKIT_REDIS_IMAGE=<image-tag> (and REDKIT_TEST_SERVER=valkey
# for a Valkey image).
set -euo pipefail

server="$(readlink -f "${1:-$(command -v redis-server)}")"
tag="${2:-redkit/redis:local}"
[ -x "$server" ] || { echo "not an executable server binary: $server" >&2; exit 1; }
dir="$(dirname "$server")"
# The CLI next to the server: valkey-cli beside valkey-server, redis-cli beside redis-server.
case "$(basename "${1:-redis-server}")" in
  valkey-server) cli="$dir/valkey-cli" ;;
  *) cli="$dir/redis-cli" ;;
esac
[ -x "$cli" ] || cli="$(command -v redis-cli)"
cli="$(readlink -f "$cli")"

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/tmp" "$root/data"
cp "$server" "$root/usr/local/bin/redis-server"
cp "$cli" "$root/usr/local/bin/redis-cli"
if "$server" --version | grep -qi valkey; then
  ln -s redis-server "$root/usr/local/bin/valkey-server"
  ln -s redis-cli "$root/usr/local/bin/valkey-cli"
fi
# Every library either binary loads (ldd prints "name => /path (addr)" or "/path (addr)").
for lib in $( (ldd "$server"; ldd "$cli") | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
chmod 1777 "$root/tmp"

tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  -c 'WORKDIR /data' \
  -c 'CMD ["redis-server"]' \
  - "$tag" >/dev/null
echo "$tag: $(docker run --rm --network none "$tag" redis-server --version)"
