import { negativeRecordExpired } from "./classification.js";

/** Why a negative record is not released (Credit Investigation Regulation Art. 15, 16). */
export type NegativeWithholdReason =
  /** Neither ended_at nor ongoing with last_confirmed_at, or dates that contradict each other: its Art. 16 term cannot be computed. */
  | "NEGATIVE_END_UNKNOWN"
  /** Ended 5 years ago or more, or ongoing but last confirmed 5 years ago or more (Art. 16). */
  | "NEGATIVE_EXPIRED"
  /** A natural person's negative record without the provider's notice evidence (Art. 15). */
  | "NEGATIVE_NOT_NOTIFIED";

/** What a provider states about a negative record's term and notice. */
export interface NegativeRecordDates {
  readonly endedAt?: Date | undefined;
  readonly ongoing: boolean;
  readonly lastConfirmedAt?: Date | undefined;
  readonly notifiedAt?: Date | undefined;
}

export interface NegativeRecordContext {
  /** Art. 15 protects natural persons: notice is required only for them. */
  readonly naturalPerson: boolean;
  /** The catalogue marks the category as published under a law or regulation (Art. 15's exception). */
  readonly publicByLaw: boolean;
  readonly now: Date;
}

/** How far ahead of the gateway's clock a provider's date may be (clock skew) before it counts as in the future. */
export const PROVIDER_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Judges a record the catalogue (or, stricter, the provider) calls negative.
 * Art. 16: negative information is kept 5 years from the end of the act or
 * event and then no longer provided, so a record must say when it ended, or
 * that it continues and when that was last confirmed; a confirmation 5 years
 * old or more no longer shows the record is within its term. Art. 15: a
 * provider reports a person's negative information only after telling the
 * person, "except negative information published under laws and administrative
 * regulations": the notice date is the evidence.
 */
export function judgeNegativeRecord(record: NegativeRecordDates, context: NegativeRecordContext): NegativeWithholdReason | undefined {
  const latest = context.now.getTime() + PROVIDER_CLOCK_SKEW_MS;
  const inPast = (d: Date | undefined): d is Date => d !== undefined && Number.isFinite(d.getTime()) && d.getTime() <= latest;
  if (record.endedAt !== undefined) {
    // An end in the future is no end, and an ended act cannot also be ongoing.
    if (record.ongoing || !inPast(record.endedAt)) return "NEGATIVE_END_UNKNOWN";
    if (negativeRecordExpired(record.endedAt, context.now)) return "NEGATIVE_EXPIRED";
  } else if (record.ongoing) {
    if (!inPast(record.lastConfirmedAt)) return "NEGATIVE_END_UNKNOWN";
    if (negativeRecordExpired(record.lastConfirmedAt, context.now)) return "NEGATIVE_EXPIRED";
  } else {
    return "NEGATIVE_END_UNKNOWN";
  }
  if (context.naturalPerson && !context.publicByLaw && !inPast(record.notifiedAt)) return "NEGATIVE_NOT_NOTIFIED";
  return undefined;
}
