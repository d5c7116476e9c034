#!/usr/bin/env bash
# Rebuild vendor/ from package-lock.json: the exact files Workq serves for GraphiQL.
# Needs npm and the npm registry (nothing else); run from anywhere, commit vendor/.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
version() { node -p "require('./node_modules/$1/package.json').version"; }
rm -rf vendor
copy() { # package file...
  local package=$1 dir
  dir="vendor/$package-$(version "$package")"
  shift
  mkdir -p "$dir"
  cp "node_modules/$package/LICENSE" "$dir/"
  for file in "$@"; do
    # the source maps are not shipped; drop the comment that would make devtools ask for them
    sed '/^\/\/# sourceMappingURL=/d; s|/\*# sourceMappingURL=[^*]*\*/||' \
      "node_modules/$package/$file" >"$dir/$(basename "$file")"
  done
}
copy react umd/react.production.min.js
copy react-dom umd/react-dom.production.min.js
copy graphiql graphiql.min.js graphiql.min.css
rm -rf node_modules
echo "vendor/ rebuilt:"
find vendor -type f | sort
