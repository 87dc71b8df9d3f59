import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { IncidentEvidenceSchema, IncidentSchema, IncidentTimelineEntrySchema, type Incident as IncidentMessage } from "../../gen/credex/v1/admin_pb.js";
import type { Incident, IncidentCategory, IncidentLevel, IncidentState, TimelineKind } from "./incident.js";

const ts = (iso: string) => timestampFromDate(new Date(iso));

/** The GatewayAdmin Incident message of an incident. */
export function incidentMessageOf(i: Incident): IncidentMessage {
  return create(IncidentSchema, {
    id: i.id,
    detector: i.detector,
    key: i.key,
    category: i.category,
    level: i.level,
    summary: i.summary,
    gatewayInstance: i.gatewayInstance,
    agency: i.agency ?? "",
    openedAt: ts(i.openedAt),
    updatedAt: ts(i.updatedAt),
    reportBy: i.reportBy ? ts(i.reportBy) : undefined,
    state: i.state,
    evidence: create(IncidentEvidenceSchema, { exchangeIds: i.evidence.exchangeIds, count: BigInt(i.evidence.count), pseudonyms: i.evidence.pseudonyms, attributes: i.evidence.attributes }),
    timeline: i.timeline.map((t) => create(IncidentTimelineEntrySchema, { at: ts(t.at), kind: t.kind, actor: t.actor, text: t.text, details: t.details ?? {} })),
  });
}

/** The incident a GatewayAdmin message describes (the CLI prints both sources alike). */
export function incidentFromMessage(m: IncidentMessage): Incident {
  const iso = (t: Parameters<typeof timestampDate>[0] | undefined) => (t ? timestampDate(t).toISOString() : "");
  return {
    id: m.id,
    detector: m.detector,
    key: m.key,
    category: m.category as IncidentCategory,
    level: m.level as IncidentLevel,
    summary: m.summary,
    gatewayInstance: m.gatewayInstance,
    ...(m.agency ? { agency: m.agency } : {}),
    openedAt: iso(m.openedAt),
    updatedAt: iso(m.updatedAt),
    reportBy: m.reportBy ? iso(m.reportBy) : undefined,
    state: m.state as IncidentState,
    evidence: { exchangeIds: [...(m.evidence?.exchangeIds ?? [])], count: Number(m.evidence?.count ?? 0n), pseudonyms: [...(m.evidence?.pseudonyms ?? [])], attributes: { ...(m.evidence?.attributes ?? {}) } },
    timeline: m.timeline.map((t) => ({ at: iso(t.at), kind: t.kind as TimelineKind, actor: t.actor, text: t.text, details: { ...t.details } })),
  };
}
