/** Serials compare as uppercase hex without leading zeros or separators (the form CRL entries are read in). */
export function normalizeSerial(serial: string): string {
  return serial.replace(/[:\s]/g, "").toUpperCase().replace(/^0+(?=.)/, "");
}
