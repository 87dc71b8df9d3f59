import { randomFillSync } from "node:crypto";

const ID_BYTES = 16;
const POOL_IDS = 256;
const pool = Buffer.alloc(ID_BYTES * POOL_IDS);
let next = POOL_IDS;

/**
 * A fresh W3C trace id (https://www.w3.org/TR/trace-context/#trace-id): 16
 * random bytes as 32 lowercase hex digits, never all zero. Drawn from a pool
 * refilled 256 ids at a time — randomBytes(16) per exchange was ≈ 2 % of the
 * gateway's CPU (BENCHMARKS.md), the same reason crypto.randomUUID pools.
 */
export function randomTraceId(): string {
  for (;;) {
    if (next === POOL_IDS) {
      randomFillSync(pool);
      next = 0;
    }
    const start = next++ * ID_BYTES;
    const id = pool.toString("hex", start, start + ID_BYTES);
    if (id !== "0".repeat(32)) return id;
  }
}
