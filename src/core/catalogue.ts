/** A field the catalogue classifies on its own (a finer grain than its category). */
export interface CatalogueFieldInfo {
  /** Classification level of the field, 1..4. */
  readonly level: number;
  /** Art. 14.2 content: exactly the level-4 fields. */
  readonly sensitive: boolean;
  /**
   * Negative information inside a category that is not negative as a whole (an
   * insurance claim's fraud finding): released only when the record's dates
   * satisfy Art. 15 and 16, else removed.
   */
  readonly negative?: boolean;
}

/** One category of the credit-information catalogue (Planning Outline §4(2)). */
export interface CategoryInfo {
  readonly name: string;
  /** Default classification level of the category's records, 1..4. */
  readonly level: number;
  /** Level-4 categories of Credit Investigation Regulation Art. 14.2: need written consent naming them. */
  readonly sensitive: boolean;
  /**
   * Negative information (Art. 15, 16): the catalogue's word, not the provider's
   * polarity. Its records need ended_at, or ongoing with last_confirmed_at; they
   * are not provided 5 years after the end; a natural person's need notice evidence.
   */
  readonly negative: boolean;
  /**
   * Negative information published under a law or regulation (court lists of
   * dishonest judgment debtors, disclosed administrative penalties): released
   * without the provider's notice evidence (Art. 15, "依照法律、行政法规规定公开的不良信息除外").
   */
  readonly publicByLaw?: boolean;
  /** Sectors whose agencies own records of this category. */
  readonly sectors: readonly string[];
  readonly description: string;
  /**
   * The allow-list of the category's fields, each with its level (the category's
   * unless classified on its own). Release passes no other field: one not named
   * here is dropped, counted and reported. Absent: no field passes.
   */
  readonly fields?: ReadonlyMap<string, CatalogueFieldInfo>;
}

export interface Catalogue {
  readonly categories: ReadonlyMap<string, CategoryInfo>;
  /**
   * Protection level (GB/T 22239-2019) required per classification level, index 1..4;
   * absent: DEFAULT_MINIMUM_PROTECTION_LEVEL (src/core/protection-level.ts).
   */
  readonly minimumProtectionLevel?: readonly number[] | undefined;
}

/**
 * Member types (proto credex.v1.Sector without its prefix): the four financial
 * regulators, the regional platforms, and the tax, market-supervision, court
 * and credit-bureau members. Their rights beyond the policy: src/core/sector-rights.ts.
 */
export const SECTORS = ["BANKING", "SECURITIES", "INSURANCE", "FOREX", "REGIONAL", "TAX", "MARKET_SUPERVISION", "COURT", "CREDIT_BUREAU"] as const;
export type Sector = (typeof SECTORS)[number];

export const PURPOSES = [
  "LOAN_APPROVAL",
  "POST_LOAN_MANAGEMENT",
  "SUPERVISION",
  "ADMINISTRATIVE_APPROVAL",
  "JUDICIAL",
  "ENFORCEMENT",
  "GUARANTEE",
  "SUBJECT_REQUEST",
] as const;
export type PurposeName = (typeof PURPOSES)[number];
