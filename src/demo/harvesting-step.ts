import { status as GrpcStatus, type ServiceError } from "@grpc/grpc-js";
import { createAdminClient } from "../client/admin-client.js";
import { errorInfoOf } from "../adapters/grpc/rich-status.js";
import { Purpose, SubjectType } from "../gen/credex/v1/types_pb.js";
import { generateUscc } from "../core/identifiers/uscc.js";
import { createSeededRandom } from "../core/identifiers/random-source.js";
import type { Incident } from "../core/incidents/incident.js";
import { demoQuery, type DemoExchange, type DemoStep } from "./demo-script.js";
import type { Federation } from "./federation.js";

const HARVESTER = "sh-credit";
const CATEGORIES = ["administrative_penalty"];
/** A bound on the attempt: the detector's default threshold is 100 distinct subjects. */
const MAX_QUERIES = 300;

/** One line of `credex incidents list`, for the demo table. */
export function incidentLine(i: Incident): string {
  return `${i.id}  ${i.state}  level ${i.level}  ${i.detector}  ${i.key}  evidence ${i.evidence.count}${i.reportBy ? `  report by ${i.reportBy}` : ""}`;
}

/**
 * Bulk harvesting (issue 6 demo): a member queries many distinct companies in
 * a burst (valid synthetic USCCs). The subject-enumeration detector opens a
 * level III incident, the contain-harvesting playbook suspends the agency,
 * its next call is refused with AGENCY_SUSPENDED; an officer then resumes it
 * (audited) so later steps run on a healthy federation.
 */
export const HARVESTING_STEP: DemoStep = {
  title: "incident: bulk harvesting detected and contained",
  async run(f: Federation): Promise<DemoExchange[]> {
    if (!f.incidents) throw new Error("the harvesting step needs the gateway's incident system (incidents.enabled)");
    const before = new Set(f.incidents.manager.list().map((i) => i.id));
    const random = createSeededRandom(20260105);
    const started = performance.now();
    let answered = 0;
    let refusal = "";
    const client = f.client(HARVESTER); // one connection, as a harvesting script would
    for (let i = 0; i < MAX_QUERIES && refusal === ""; i++) {
      try {
        await client.query({ subject: { type: SubjectType.LEGAL_PERSON, id: generateUscc(random) }, categories: CATEGORIES, purpose: Purpose.SUPERVISION });
        answered += 1;
      } catch (err) {
        const e = err as ServiceError;
        refusal = `${GrpcStatus[e.code] ?? e.code} ${errorInfoOf(e)?.reason ?? ""}`.trim();
      }
    }
    await f.incidents.settle();
    const incident = f.incidents.manager.list({ detector: "subject-enumeration" }).find((i) => i.key === HARVESTER && !before.has(i.id));
    const rows: DemoExchange[] = [
      {
        title: `${HARVESTER} harvests: ${answered} distinct companies queried in a burst, then ${refusal || "no refusal"}`,
        requester: HARVESTER,
        purpose: Purpose[Purpose.SUPERVISION]!,
        categories: CATEGORIES,
        outcome: incident ? `incident ${incident.detector} level ${incident.level} → ${incident.state} (${incident.timeline.filter((t) => t.kind === "action").map((t) => t.text).join(", ")})` : "NOT detected",
        perAgency: incident ? `credex incidents list: ${incidentLine(incident)}` : "",
        latencyMs: performance.now() - started,
        asExpected: incident?.state === "contained" && refusal.endsWith("AGENCY_SUSPENDED"),
      },
      await demoQuery(f, "its next call is refused", HARVESTER, { subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" }, categories: CATEGORIES, purpose: Purpose.SUPERVISION }, "AGENCY_SUSPENDED"),
    ];
    // The security officer reviews, resumes the agency and resolves the incident over the
    // admin API (mTLS, admin certificate, role-checked; both calls audited as ADMIN events).
    const officer = f.manifest.admins?.find((a) => a.role === "security");
    if (f.manifest.admin && officer) {
      const adminClient = createAdminClient({ address: f.manifest.admin, trustDomain: f.manifest.trustDomain, certFile: officer.cert, keyFile: officer.key, caFile: f.manifest.ca, totpSecretFile: officer.totpSecret });
      try {
        await adminClient.call("resumeAgency", { agencyId: HARVESTER });
        if (incident) await adminClient.call("resolveIncident", { id: incident.id, note: "demo: harvesting reviewed, agency resumed" });
      } finally {
        adminClient.close();
      }
    } else {
      const actor = { id: "admin/security/demo-officer" };
      await f.incidents.officer.resumeAgency(actor, HARVESTER);
      if (incident) await f.incidents.officer.transition(actor, incident.id, "resolved", "demo: harvesting reviewed, agency resumed");
    }
    rows.push(await demoQuery(f, "after a security officer resumes it over the admin API (audited)", HARVESTER, { subject: { type: SubjectType.LEGAL_PERSON, id: "91310110666007217T" }, categories: CATEGORIES, purpose: Purpose.SUPERVISION }, "OK"));
    return rows;
  },
};
