#!/usr/bin/env bash
# Renders icon.svg into the PNG sizes the window and desktop entries use (needs rsvg-convert,
# Debian's librsvg2-bin). The PNGs are committed; run this after changing the SVG.
set -euo pipefail
cd "$(dirname "$0")"
for size in 32 64 128 256 512; do
  rsvg-convert -w "$size" -h "$size" icon.svg -o "icon-$size.png"
done
