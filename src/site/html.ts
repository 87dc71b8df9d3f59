/**
 * Escapes text for HTML element content and double-quoted attribute values
 * (OWASP XSS prevention, rule 1 and 2): every value that reaches a page goes
 * through here; pages are built from fixed markup and escaped values only.
 */
export function esc(value: string | number): string {
  return String(value).replace(/[&<>"'`=/]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escapes for XML text and attribute values (Atom). */
export function xml(value: string): string {
  // Characters XML 1.0 does not allow are dropped, so a hostile name cannot break the feed.
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
