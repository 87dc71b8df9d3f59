/** One joint reward and punishment list (Planning Outline §4(1)), as policies/lists.yaml declares it. */
export interface ListInfo {
  readonly id: string;
  /** Agencies that may publish entries of the list (Casbin "publish" must also allow it). */
  readonly owners: readonly string[];
  /** Default and highest classification level of its entries, 1..4. */
  readonly level: number;
  /** "reward" (red lists) or "punishment" (black lists). */
  readonly kind: "reward" | "punishment";
  readonly description: string;
}

export interface ListCatalogue {
  readonly lists: ReadonlyMap<string, ListInfo>;
}

/**
 * The purpose list decisions are asked for: joint reward and punishment is
 * enforcement of other authorities' decisions (Planning Outline §4(1)).
 * Policy lines for lists use "*" or name it.
 */
export const LIST_PURPOSE = "ENFORCEMENT";
