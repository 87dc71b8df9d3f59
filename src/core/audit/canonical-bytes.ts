/**
 * Big-endian, length-prefixed field encodings for bytes that are signed or
 * authenticated (sealed-record headers, checkpoints). Written by hand rather
 * than with a protobuf serializer so the signed bytes can never depend on
 * serializer details.
 */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt.asUintN(64, n));
  return b;
}

/** A 4-byte length, then the bytes. */
export function lengthPrefixed(v: Uint8Array): Buffer {
  return Buffer.concat([u32(v.length), Buffer.from(v)]);
}

/** A UTF-8 string, length-prefixed. */
export function lengthPrefixedString(s: string): Buffer {
  return lengthPrefixed(Buffer.from(s, "utf8"));
}
