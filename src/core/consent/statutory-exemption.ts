import { CredexError } from "../errors.js";
import type { PurposeName } from "../catalogue.js";
import { rolesOf, type AgencyEntry, type AgencyRole } from "../registry.js";

/**
 * A statutory exemption from a natural person's consent: the Regulation
 * requires consent "except where the law provides" (Art. 13, 18; PIPL Art.
 * 13(3): processing a statutory duty requires). Only exemptions named in the
 * gateway's policy (policies/exemptions.yaml), each with its legal basis,
 * stand in for consent, and only for the requesters, purposes and
 * categories they name. Every use is audited with its basis.
 */
export interface StatutoryExemption {
  readonly id: string;
  /** The law that lets the query go without consent, as the audit records it. */
  readonly legalBasis: string;
  readonly purposes: ReadonlySet<PurposeName>;
  /** Registry roles (src/core/registry.ts) the requester must hold: a registry fact, not the caller's word. */
  readonly requesterRoles: ReadonlySet<AgencyRole>;
  readonly categories: ReadonlySet<string>;
}

export type StatutoryExemptions = ReadonlyMap<string, StatutoryExemption>;

export interface ExemptionClaim {
  readonly id: string;
  readonly requester: AgencyEntry | undefined;
  readonly purpose: PurposeName;
  readonly categories: readonly string[];
}

/** The exemption a query names, when it covers this requester, purpose and every category; refused otherwise. */
export function applyStatutoryExemption(exemptions: StatutoryExemptions, claim: ExemptionClaim): StatutoryExemption {
  const exemption = exemptions.get(claim.id);
  if (!exemption) {
    // Caller text echoed in an error: bounded and printable (no hostile payloads in replies or logs).
    const shown = claim.id.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
    throw new CredexError("STATUTORY_EXEMPTION_UNKNOWN", `no statutory exemption "${shown}" in the exemptions policy`, { exemption: shown });
  }
  const meta = { exemption: exemption.id };
  // Roles from the registry, with those the requester's sector holds by what it is (a court: judicial).
  const roles = claim.requester ? rolesOf(claim.requester) : [];
  if (![...exemption.requesterRoles].some((r) => roles.includes(r))) {
    throw new CredexError("STATUTORY_EXEMPTION_NOT_APPLICABLE", `"${exemption.id}" is for agencies with the role ${[...exemption.requesterRoles].join(" or ")}`, { ...meta, required_role: [...exemption.requesterRoles].join("|") });
  }
  if (!exemption.purposes.has(claim.purpose)) {
    throw new CredexError("STATUTORY_EXEMPTION_NOT_APPLICABLE", `"${exemption.id}" does not cover the purpose ${claim.purpose}`, { ...meta, purpose: claim.purpose });
  }
  const outside = claim.categories.find((c) => !exemption.categories.has(c));
  if (outside !== undefined) throw new CredexError("STATUTORY_EXEMPTION_NOT_APPLICABLE", `"${exemption.id}" does not cover the category "${outside}"`, { ...meta, category: outside });
  return exemption;
}
