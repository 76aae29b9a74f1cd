/**
 * TLS settings for both links. Every certificate in nvid is self-signed, so
 * chain validation is switched off and replaced by an exact check of the
 * peer certificate's SHA-256 fingerprint (the peer's ID), done by the caller
 * right after the handshake and before any frame is read.
 */
import { X509Certificate } from 'node:crypto';
import { connect, type ConnectionOptions, type TlsOptions, type TLSSocket } from 'node:tls';
import type { Identity } from '../../../core/types.js';

/** Content type of a TLS handshake record: the first byte of every ClientHello (how a server tells TLS from a bulk connection). */
export const TLS_HANDSHAKE_BYTE = 0x16;

/** Lowercase hex without separators, the form of every ID in nvid. */
export function normaliseFingerprint(text: string): string {
  return text.replace(/[:\s]/g, '').toLowerCase();
}

/** SHA-256 fingerprint of a PEM certificate via OpenSSL (fast enough to check every peer entry); undefined if unparsable. */
export function certificateFingerprint(certPem: string): string | undefined {
  try {
    return normaliseFingerprint(new X509Certificate(certPem).fingerprint256);
  } catch {
    return undefined;
  }
}

/** The authenticated peer of a TLS socket: its ID and certificate, or undefined if it sent none. */
export function peerCertificateOf(socket: TLSSocket): { id: string; certPem: string } | undefined {
  const cert = socket.getPeerX509Certificate();
  if (!cert) return undefined;
  return { id: normaliseFingerprint(cert.fingerprint256), certPem: cert.toString() };
}

/** Server side: TLS 1.3 only, ask every client for its certificate, judge it ourselves. */
export function serverTlsOptions(identity: Identity, handshakeTimeoutMs: number): TlsOptions {
  return {
    key: identity.keyPem,
    cert: identity.certPem,
    minVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/**
 * Opens a client connection with the settings above. Nagle is switched off:
 * with delayed ACKs it stalls each TLS 1.3 handshake flight by tens of ms.
 */
export function connectTls(identity: Identity, host: string, port: number): TLSSocket {
  const socket = connect(clientTlsOptions(identity, host, port));
  socket.setNoDelay(true);
  return socket;
}

/** Client side: TLS 1.3 only, present our certificate, judge the server's by fingerprint afterwards. */
export function clientTlsOptions(identity: Identity, host: string, port: number): ConnectionOptions {
  return {
    host,
    port,
    key: identity.keyPem,
    cert: identity.certPem,
    minVersion: 'TLSv1.3',
    rejectUnauthorized: false,
    // Names mean nothing here (the fingerprint is the identity), so skip hostname checks and SNI.
    checkServerIdentity: () => undefined,
    servername: '',
  };
}
