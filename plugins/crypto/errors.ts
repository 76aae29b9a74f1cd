/** The codes the crypto plugin adds to the core's (docs/errors.md lists them with the rest). */
export const CRYPTO_ERROR_CODES = {
  NVID_ERR_KEY_UNWRAP: "the wrapped transfer key cannot be unwrapped with this node's key",
  NVID_ERR_CHUNK_AUTH: 'a chunk failed authentication (altered, reordered or swapped)',
  NVID_ERR_REPLAY: 'a transfer ID was seen before',
  NVID_ERR_STALE: 'the envelope timestamp is outside the accepted window',
} as const;
