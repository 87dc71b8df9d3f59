import type { Catalogue } from "../catalogue.js";

/** How the public site groups an entry on a subject's page. */
export type DisclosureKind = "licence" | "penalty" | "list";

/** One category the public disclosure feed carries (policies/disclosure.yaml). */
export interface DisclosureCategory {
  readonly category: string;
  readonly kind: DisclosureKind;
  /** Days from the decision after which the entry is withdrawn from public view. */
  readonly publicityDays: number;
  readonly label: { readonly zh: string; readonly en: string };
}

export interface DisclosureCatalogue {
  readonly categories: ReadonlyMap<string, DisclosureCategory>;
  /** Working days from decision to publication before a lag incident is raised (2700号: 7). */
  readonly maxLagWorkingDays: number;
}

/**
 * A category of the disclosure catalogue is public only while the credit
 * catalogue says it is level 1 (PUBLIC): the feed and the site re-check this
 * against the catalogue they loaded, so a category reclassified to level 2+
 * stops being published and shown even if policies/disclosure.yaml still names it.
 */
export function isPublicCategory(catalogue: Catalogue, disclosure: DisclosureCatalogue, category: string): boolean {
  return disclosure.categories.has(category) && catalogue.categories.get(category)?.level === 1;
}
