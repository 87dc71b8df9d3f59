import type { Catalogue } from "./catalogue.js";

/**
 * Security-protection levels (等级保护 2.0, GB/T 22239-2019) an agency must have
 * declared before it may receive data of a classification level: index =
 * classification level 1..4 (index 0 unused). RESTRICTED (3) and SENSITIVE (4)
 * data leave the exchange only for systems assessed at level 3 or above, the
 * level the exchange itself is classified at (DOMAIN.md); PUBLIC and SHARED
 * need no more than level 1. categories.yaml's `minimumProtectionLevel` overrides it.
 */
export const DEFAULT_MINIMUM_PROTECTION_LEVEL: readonly number[] = Object.freeze([0, 1, 1, 3, 3]);

/** Declared protection level of a registry entry that names none (the exchange's own level, DOMAIN.md). */
export const DEFAULT_DECLARED_PROTECTION_LEVEL = 3;

/** The protection level classification `level` (1..4) requires under `catalogue`. */
export function requiredProtectionLevel(catalogue: Pick<Catalogue, "minimumProtectionLevel"> | undefined, level: number): number {
  const table = catalogue?.minimumProtectionLevel ?? DEFAULT_MINIMUM_PROTECTION_LEVEL;
  return table[Math.min(Math.max(level, 1), 4)] ?? 1;
}

/** Highest classification level an agency declared at `protectionLevel` may receive (0: none). */
export function protectionCeiling(catalogue: Pick<Catalogue, "minimumProtectionLevel"> | undefined, protectionLevel: number): number {
  let ceiling = 0;
  for (let level = 1; level <= 4; level++) if (requiredProtectionLevel(catalogue, level) <= protectionLevel) ceiling = level;
  return ceiling;
}
