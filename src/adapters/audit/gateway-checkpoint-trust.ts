import { readFile } from "node:fs/promises";
import type { GatewayConfig } from "../../config/gateway-config.js";
import { anchorCertificates, type CheckpointTrust } from "../../core/audit/checkpoint.js";
import { pemCertificateBlocks } from "../../core/pem-certificates.js";
import { revocationLookupFromCrls, type RevocationLookup } from "../pki/crl-reader.js";

/**
 * Whose checkpoints a gateway's own are. They are signed with its TLS key (gateway-parts.ts):
 * its leaf certificate checks them, and those signed before a rotation are checked through the
 * CA bundle and the trust domain with the certificate each carries, against the gateway's CRLs.
 * Used by posture to verify the chain, and by the audit sinks at start (a chain state saved
 * under the key served before, the last checkpoint a new chain names). A CRL that does not
 * load leaves revocation out here: the CRL control reports it, and the TLS reload refuses it.
 */
export async function gatewayCheckpointTrust(config: GatewayConfig): Promise<CheckpointTrust> {
  const read = async (file: string) => readFile(file, "utf8").catch(() => "");
  const [leafPem, caPem, ...crlPems] = await Promise.all([read(config.tls.cert), read(config.tls.ca), ...config.tls.crl.map(read)]);
  const leaf = pemCertificateBlocks(leafPem).slice(0, 1);
  if (!caPem) return { certificates: leaf };
  let revocation: RevocationLookup | undefined;
  try {
    revocation = revocationLookupFromCrls(config.tls.crl.map((source, i) => ({ pem: crlPems[i] ?? "", source })), anchorCertificates([caPem]), new Date());
  } catch {
    revocation = undefined;
  }
  return { certificates: leaf, signerAnchors: { ca: [caPem], trustDomain: config.trustDomain, ...(revocation && { revocation }) } };
}
