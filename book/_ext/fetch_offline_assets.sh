#!/usr/bin/env bash
# Fetch the JavaScript that the HTML pages load (MathJax, require.js, the Jupyter widget manager)
# from the npm registry into DEST/vendor/, which the Sphinx build copies into `_static/vendor/`,
# so the built book renders equations and widgets without network access.
# Usage: book/_ext/fetch_offline_assets.sh DEST
set -euo pipefail
MATHJAX=3.2.2            # the MathJax major version Sphinx 7 targets
REQUIREJS=2.3.8
HTML_MANAGER=1.0.15      # the ipywidgets 8.1 widget manager (controls 5.0, output 6.0)

dest=${1:?usage: $0 DEST}
command -v npm >/dev/null || { echo "fetch_offline_assets: npm is required (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mathjax@$MATHJAX" "requirejs@$REQUIREJS" \
   "@jupyter-widgets/html-manager@$HTML_MANAGER" >/dev/null)
for pkg in mathjax requirejs html-manager; do
  mkdir -p "$tmp/$pkg"
  tar xzf "$tmp"/*"$pkg"-*.tgz -C "$tmp/$pkg" --strip-components=1
done

out="$tmp/out/vendor"
mkdir -p "$out/mathjax/output" "$out/requirejs" "$out/html-manager"
# MathJax: the combined TeX component the pages load, plus what it loads lazily
# (TeX extensions, CHTML fonts, the menu and its accessibility components).
cp "$tmp/mathjax/LICENSE" "$tmp/mathjax/es5/tex-mml-chtml.js" "$out/mathjax/"
cp -r "$tmp/mathjax/es5/input" "$tmp/mathjax/es5/a11y" "$tmp/mathjax/es5/ui" "$tmp/mathjax/es5/sre" "$out/mathjax/"
cp -r "$tmp/mathjax/es5/output/chtml" "$tmp/mathjax/es5/output/chtml.js" "$out/mathjax/output/"
cp "$tmp/requirejs/require.js" "$out/requirejs/"
# The widget manager bundle and the icon fonts its stylesheet refers to (no source maps).
find "$tmp/html-manager/dist" -maxdepth 1 -type f \
  \( -name embed-amd.js -o -name '*.woff*' -o -name '*.ttf' -o -name '*.eot' -o -name '*.svg' \) \
  -exec cp {} "$out/html-manager/" \;
printf 'mathjax@%s requirejs@%s @jupyter-widgets/html-manager@%s\n' \
  "$MATHJAX" "$REQUIREJS" "$HTML_MANAGER" > "$out/VERSIONS"

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp/out" "$dest"
echo "offline assets: $(cat "$dest/vendor/VERSIONS") -> $dest ($(du -sh "$dest" | cut -f1))"
