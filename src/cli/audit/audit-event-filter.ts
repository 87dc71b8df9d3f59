import { timestampDate } from "@bufbuild/protobuf/wkt";
import { DecisionEffect, type AuditEvent } from "../../gen/credex/v1/audit_pb.js";
import { Purpose, SubjectType } from "../../gen/credex/v1/types_pb.js";
import { subjectPseudonym } from "../../core/audit/pseudonym.js";
import { UsageError } from "../command.js";

export interface AuditFilterFlags {
  readonly agency?: string;
  readonly decision?: string;
  readonly purpose?: string;
  readonly category?: string;
  readonly subject?: string;
  readonly subjectType?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface AuditEventFilter {
  readonly from?: Date;
  readonly to?: Date;
  matches(event: AuditEvent): boolean;
}

/** An enum value by its short name, case-insensitive ("loan_approval" → LOAN_APPROVAL). */
function enumValue<E extends Record<string, string | number>>(e: E, name: string, flag: string): number {
  const wanted = name.trim().toUpperCase().replace(/-/g, "_");
  const names = Object.keys(e).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
  const hit = names.find((k) => k === wanted);
  if (hit === undefined) throw new UsageError(`--${flag} "${name}" is not one of: ${names.map((n) => n.toLowerCase()).join(", ")}`);
  return e[hit] as number;
}

export function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${flag} "${value}" is not a date/time (ISO 8601, e.g. 2026-11-26T04:00:00Z)`);
  return d;
}

/**
 * The officer's filters. --subject takes the raw id: the pseudonym is
 * computed with the key ring's pseudonym key (for the given --subject-type,
 * or every type), so the raw id is never compared or stored.
 */
export function createAuditEventFilter(flags: AuditFilterFlags, pseudonymKey: Uint8Array | undefined): AuditEventFilter {
  const from = parseTime(flags.from, "from");
  const to = parseTime(flags.to, "to");
  if (from && to && from > to) throw new UsageError("--from is after --to");
  const decision = flags.decision === undefined ? undefined : enumValue(DecisionEffect, flags.decision, "decision");
  const purpose = flags.purpose === undefined ? undefined : enumValue(Purpose, flags.purpose, "purpose");
  let pseudonyms: Set<string> | undefined;
  if (flags.subject !== undefined) {
    if (!pseudonymKey) throw new UsageError("--subject needs --key-ring (its pseudonym key)");
    const types = flags.subjectType === undefined
      ? [SubjectType.LEGAL_PERSON, SubjectType.NATURAL_PERSON, SubjectType.OTHER_ORG]
      : [enumValue(SubjectType, flags.subjectType, "subject-type") as SubjectType];
    pseudonyms = new Set(types.map((t) => subjectPseudonym(pseudonymKey, t, flags.subject as string)));
  } else if (flags.subjectType !== undefined) {
    throw new UsageError("--subject-type needs --subject");
  }
  return {
    ...(from && { from }),
    ...(to && { to }),
    matches(e) {
      if (flags.agency !== undefined && e.requester?.agencyId !== flags.agency) return false;
      if (decision !== undefined && (e.decision?.effect ?? DecisionEffect.UNSPECIFIED) !== decision) return false;
      if (purpose !== undefined && e.purpose !== purpose) return false;
      if (flags.category !== undefined && !e.categories.includes(flags.category)) return false;
      if (pseudonyms && !pseudonyms.has(e.subjectPseudonym)) return false;
      if (from || to) {
        const t = e.receivedAt ? timestampDate(e.receivedAt) : undefined;
        if (!t) return false;
        if (from && t < from) return false;
        if (to && t > to) return false;
      }
      return true;
    },
  };
}
