# One X server container shared by the display nodes (as the prototype ran it):
# one Xvfb display per screen, each viewable over VNC.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends xvfb x11vnc tini \
 && rm -rf /var/lib/apt/lists/*
COPY docker/xserver-entry.sh /usr/local/bin/xserver-entry
# uid 1000 is `node` in the nvid image: the X sockets must be theirs to open.
RUN useradd --uid 1000 --create-home display && chmod +x /usr/local/bin/xserver-entry
USER display
ENTRYPOINT ["tini", "--", "xserver-entry"]
CMD ["3"]
