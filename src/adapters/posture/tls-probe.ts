import { connect, type SecureVersion } from "node:tls";
import type { HandshakeResult, LiveTlsProbe } from "../../core/posture/posture-evidence.js";

export interface HandshakeOptions {
  readonly minVersion: SecureVersion;
  readonly maxVersion: SecureVersion;
  /** OpenSSL cipher list for TLS ≤ 1.2 offers. */
  readonly ciphers?: string;
  readonly timeoutMs?: number;
}

/**
 * One TLS handshake without a client certificate (the gateway completes the
 * handshake and refuses the call later, so the protocol answer is what we see).
 * Server identity is not checked: only what the server agrees to is.
 */
export function probeHandshake(address: string, options: HandshakeOptions): Promise<HandshakeResult> {
  const i = address.lastIndexOf(":");
  const host = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: HandshakeResult) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(r);
    };
    const socket = connect({
      host,
      port,
      minVersion: options.minVersion,
      maxVersion: options.maxVersion,
      ...(options.ciphers ? { ciphers: options.ciphers } : {}),
      rejectUnauthorized: false,
      ALPNProtocols: ["h2"],
    });
    socket.setTimeout(options.timeoutMs ?? 3_000, () => finish({ accepted: false, detail: "no answer before the timeout", inconclusive: true }));
    socket.once("secureConnect", () => finish({ accepted: true, protocol: socket.getProtocol() ?? undefined, cipher: socket.getCipher()?.name, detail: "handshake completed" }));
    socket.once("error", (err: NodeJS.ErrnoException) => {
      const text = `${err.code ?? ""} ${err.message}`;
      // Our own OpenSSL refusing to offer the version is no evidence about the server.
      const local = /no protocols available|NO_PROTOCOLS_AVAILABLE|NO_CIPHERS_AVAILABLE|no ciphers available|ECONNREFUSED|ENOTFOUND/i.test(text);
      finish({ accepted: false, detail: err.code ?? err.message, inconclusive: local });
    });
    socket.once("close", () => finish({ accepted: false, detail: "connection closed during the handshake" }));
  });
}

/** The versions and a weak TLS 1.2 suite offered by a live server. */
export async function probeTls(address: string): Promise<LiveTlsProbe> {
  const [tls13, tls12, tls11, tls12Weak] = await Promise.all([
    probeHandshake(address, { minVersion: "TLSv1.3", maxVersion: "TLSv1.3" }),
    probeHandshake(address, { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" }),
    // OpenSSL 3 offers TLS 1.1 only at security level 0.
    probeHandshake(address, { minVersion: "TLSv1.1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }),
    // Static RSA key exchange (no forward secrecy), CBC and GCM: all outside RFC 9325 §4.2.
    probeHandshake(address, { minVersion: "TLSv1.2", maxVersion: "TLSv1.2", ciphers: "AES128-SHA:AES256-SHA:AES128-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384" }),
  ]);
  return { address, tls13, tls12, tls11, tls12Weak };
}
