#!/bin/sh
# Starts SCREENS Xvfb displays (:1, :2, ...) at SIZE, and a VNC server for each
# on port 5900+N, so a person can watch what every node shows.
set -eu
screens="${1:-3}"
size="${SIZE:-1280x720x24}"
i=1
while [ "$i" -le "$screens" ]; do
  Xvfb ":$i" -screen 0 "$size" -br -nolisten tcp &
  i=$((i + 1))
done
sleep 1
i=1
while [ "$i" -le "$screens" ]; do
  x11vnc -display ":$i" -rfbport $((5900 + i)) -forever -shared -nopw -quiet &
  i=$((i + 1))
done
wait
