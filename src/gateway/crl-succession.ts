import type { CrlInUse } from "./tls-files.js";

/**
 * Why the CRLs `next` must not replace those `inUse`, or undefined when
 * they may. A CRL that is signed and fresh can still be older than the one in
 * use: whoever can write the CRL file could put back a CRL from before a
 * revocation (replay), or another trusted CA's CRL in place of the issuing
 * CA's, and a revoked certificate would be accepted again. So, per issuer:
 * - a CRL's cRLNumber must not be lower than the one in use (RFC 5280 §5.2.3:
 *   it increases monotonically for each CRL of an issuer); without a
 *   cRLNumber on either side, its thisUpdate must not be older;
 * - an issuer that had a CRL in use keeps one while its CA stays in the
 *   bundle (a CRL cannot silently disappear). A CA taken out of the bundle
 *   takes its CRL with it: nothing it issued is trusted any more.
 * `trustedIssuers` holds the crlIssuerKey of every CA of the new bundle.
 */
export function crlSuccessionProblem(inUse: readonly CrlInUse[], next: readonly CrlInUse[], trustedIssuers: ReadonlySet<string>): string | undefined {
  for (const old of inUse) {
    const replacement = next.find((c) => c.issuer === old.issuer);
    if (!replacement) {
      if (trustedIssuers.has(old.issuer)) return `CRL replay: no CRL of ${old.issuerName} any more (the one in use came from ${old.source}, ${describe(old)}) while its CA stays in the bundle`;
      continue;
    }
    if (replacement.crlNumber !== undefined && old.crlNumber !== undefined) {
      if (replacement.crlNumber < old.crlNumber) {
        return `CRL replay: the CRL ${replacement.source} of ${old.issuerName} has cRLNumber ${replacement.crlNumber}, lower than ${old.crlNumber} in use (RFC 5280 §5.2.3)`;
      }
    } else if (replacement.thisUpdate.getTime() < old.thisUpdate.getTime()) {
      return `CRL replay: the CRL ${replacement.source} of ${old.issuerName} was issued ${replacement.thisUpdate.toISOString()}, before the one in use (${old.thisUpdate.toISOString()})`;
    }
  }
  return undefined;
}

function describe(crl: CrlInUse): string {
  return crl.crlNumber !== undefined ? `cRLNumber ${crl.crlNumber}` : `issued ${crl.thisUpdate.toISOString()}`;
}
