import type { PurposeName, Sector } from "./catalogue.js";
import type { AgencyRole } from "./registry.js";
import { CredexError } from "./errors.js";

/**
 * What a member may receive because of what it is, whatever its registry
 * clearance, the policy or a special grant say. The policy (policies/policy.csv)
 * decides within these bounds; the gateway enforces them on every exchange
 * (src/core/stages/authorize.ts, validate.ts), and `credex policy check`
 * refuses a policy that grants beyond them.
 */
export interface SectorRights {
  /** Highest classification level the sector may ever receive through the exchange (1..4). */
  readonly maxLevel: number;
  /**
   * Lowest classification level that needs the subject's consent attestation
   * whatever the subject's type (Infinity: the general rule applies, consent
   * for natural persons only).
   */
  readonly consentFromLevel: number;
  /** Purposes the sector may never state: it holds no public authority to act on them. */
  readonly forbiddenPurposes: readonly PurposeName[];
  /** Registry roles the sector holds by what it is (src/core/registry.ts). */
  readonly impliedRoles: readonly AgencyRole[];
  /** The rule the bounds come from. */
  readonly basis: string;
}

const GENERAL: SectorRights = Object.freeze({
  maxLevel: 4,
  consentFromLevel: Infinity,
  forbiddenPurposes: [],
  impliedRoles: [],
  basis: "the policy decides (Planning Outline §3(5): classified and graded management, query permissions)",
});

/** The purposes of public authority: supervision, licensing, enforcement and the judiciary. */
const OFFICIAL_PURPOSES: readonly PurposeName[] = Object.freeze(["SUPERVISION", "ADMINISTRATIVE_APPROVAL", "ENFORCEMENT", "JUDICIAL"]);

export const SECTOR_RIGHTS: Readonly<Record<Sector, SectorRights>> = Object.freeze({
  BANKING: GENERAL,
  SECURITIES: GENERAL,
  INSURANCE: GENERAL,
  FOREX: GENERAL,
  REGIONAL: GENERAL,
  TAX: GENERAL,
  MARKET_SUPERVISION: GENERAL,
  // A court enforcing a judgment may inquire into the debtor's property (Civil Procedure
  // Law Art. 253, 2023 numbering) and keeps the dishonest-debtor list (SPC provisions,
  // 2013, amended 2017); processing necessary for a statutory duty needs no consent
  // (PIPL Art. 13 ¶1(3)). Judicial assistance is its own purpose, so it holds the
  // "judicial" role without a registry entry saying so.
  COURT: Object.freeze<SectorRights>({
    ...GENERAL,
    impliedRoles: ["judicial"],
    // Its queries without consent go through a statutory exemption named in policies/exemptions.yaml
    // (court_enforcement, which needs the judicial role), audited with the exemption's legal basis.
    basis: "Civil Procedure Law, enforcement procedure; PIPL Art. 13 ¶1(3): JUDICIAL and ENFORCEMENT are statutory duties of a court",
  }),
  // A credit bureau is a market institution, not an authority (Planning Outline §3(3)):
  // it reports for credit decisions, with the person's consent for personal information
  // (Credit Investigation Regulation Art. 13, 18). Income, deposits, holdings, insurance,
  // real estate and tax (Art. 14.2) it may hold only from the person's own written
  // consent, never collected from the government's exchange: level 4 never reaches it
  // here; restricted (level-3) data only with the subject's consent, whatever the subject.
  CREDIT_BUREAU: Object.freeze<SectorRights>({
    ...GENERAL,
    maxLevel: 3,
    consentFromLevel: 3,
    forbiddenPurposes: OFFICIAL_PURPOSES,
    basis: "Credit Investigation Regulation Art. 13, 14.2, 18; Planning Outline §3(3): a credit bureau never receives level-4 data through the exchange, level 3 only with the subject's consent",
  }),
});

/** The rights of `sector`; a sector credex does not know gets the general rule (the registry only holds known ones). */
export function sectorRights(sector: string): SectorRights {
  return (SECTOR_RIGHTS as Readonly<Record<string, SectorRights>>)[sector] ?? GENERAL;
}

/** Highest level the sector may receive in one exchange, given whether the subject's consent was attested. */
export function sectorCeiling(rights: SectorRights, consented: boolean): number {
  return consented ? rights.maxLevel : Math.min(rights.maxLevel, rights.consentFromLevel - 1);
}

/** Refuses a purpose the sector may never state (a credit bureau and the official purposes), before the policy is asked. */
export function assertSectorMayState(sector: string, purpose: PurposeName, agency?: string): void {
  const rights = sectorRights(sector);
  if (rights.forbiddenPurposes.includes(purpose)) {
    throw new CredexError("PURPOSE_NOT_PERMITTED", `a ${sector} member may not state the purpose ${purpose}: ${rights.basis}`, { purpose, sector, ...(agency !== undefined ? { agency } : {}) });
  }
}

/**
 * Refuses, before anything is recorded, a request a member of `sector` could never be
 * answered: an official purpose a credit bureau may not state, or a category above
 * the sector's bound. Used where a request is kept for later (a special application),
 * so that no owner is asked to approve what the gateway would refuse anyway.
 */
export function assertSectorMayAsk(sector: string, purpose: PurposeName, categories: ReadonlyArray<{ readonly name: string; readonly level: number }>): void {
  const rights = sectorRights(sector);
  assertSectorMayState(sector, purpose);
  const above = categories.find((c) => c.level > rights.maxLevel);
  if (above !== undefined) {
    throw new CredexError("SECTOR_LEVEL_NOT_PERMITTED", `a ${sector} member never receives level ${above.level} (${above.name}): ${rights.basis}`, {
      sector,
      sector_max_level: String(rights.maxLevel),
      category_level: String(above.level),
      category: above.name,
    });
  }
}
