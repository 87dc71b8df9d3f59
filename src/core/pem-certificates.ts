/** The PEM "CERTIFICATE" blocks of a text, in order (RFC 7468 §5); anything between them is ignored. */
export function pemCertificateBlocks(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}
