/** The codes the transport plugin adds to the core's (docs/errors.md lists them with the rest). */
export const TRANSPORT_ERROR_CODES = {
  NVID_ERR_BAD_FRAME: 'a frame on the wire is malformed, too large or of an unknown type or version',
  NVID_ERR_FRAME_TOO_LARGE: 'a length prefix exceeds the configured limit',
  NVID_ERR_TIMEOUT: "a peer did not answer, authenticate or send in time (a body slower than the receiver's floor counts too)",
  NVID_ERR_NOT_ADMITTED: 'the coordinator refused to admit this node (token or fingerprint policy)',
  NVID_ERR_WEAK_TOKEN: "a coordinator's join token anyone could know or guess: a placeholder (as in example configs), shorter than 16 characters, or kept in a file others can read; the coordinator refuses to start and says how to fix it",
  NVID_ERR_UNTRUSTED_PEER: 'a TLS peer presented a certificate that is not an admitted peer',
  NVID_ERR_COORDINATOR_MISMATCH: "the coordinator's certificate does not match the pinned fingerprint, or a coordinator found by mDNS announces another fingerprint than the one expected",
  NVID_ERR_COORDINATOR_UNCONFIRMED: 'a coordinator found by mDNS was not joined: no fingerprint was given for it and there was no terminal to confirm it on (pass --coordinator-fingerprint)',
  NVID_ERR_CONNECTION: 'a connection failed or closed before the exchange finished',
  NVID_ERR_DIRECTORY: "the coordinator's shared directory (NATS) could not be reached or refused an update; the node is told and retries, or fails over to another coordinator",
  NVID_ERR_SWARM_MANIFEST: "a shared transfer's manifest is malformed, not signed by its sender, or does not list this node",
  NVID_ERR_BAD_PIECE: 'a peer passed on a piece of a shared transfer whose SHA-256 is not the one the sender signed; the piece is dropped, the peer is no longer used as a source and is reported',
  NVID_ERR_SWARM_UNKNOWN: 'a peer asked for pieces of a shared transfer this node does not hold (never offered, finished and cleaned up, or expired)',
  NVID_ERR_RECEIVER_GONE: 'the receiver closed the connection or vanished in the middle of a transfer; the message says how far it got',
} as const;
