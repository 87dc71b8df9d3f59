/** One category of the credit-information catalogue (Planning Outline §4(2)). */
export interface CategoryInfo {
  readonly name: string;
  /** Default classification level of the category's records, 1..4. */
  readonly level: number;
  /** Level-4 categories of Credit Investigation Regulation Art. 14.2: need written consent naming them. */
  readonly sensitive: boolean;
  /** Negative information (Art. 15, 16). */
  readonly negative: boolean;
  /** Sectors whose agencies own records of this category. */
  readonly sectors: readonly string[];
  readonly description: string;
}

export interface Catalogue {
  readonly categories: ReadonlyMap<string, CategoryInfo>;
  /**
   * Protection level (GB/T 22239-2019) required per classification level, index 1..4;
   * absent: DEFAULT_MINIMUM_PROTECTION_LEVEL (src/core/protection-level.ts).
   */
  readonly minimumProtectionLevel?: readonly number[] | undefined;
}

export const SECTORS = ["BANKING", "SECURITIES", "INSURANCE", "FOREX", "REGIONAL"] as const;
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
