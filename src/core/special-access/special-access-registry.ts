import { randomUUID } from "node:crypto";
import { CredexError } from "../errors.js";

export type ApplicationState = "PENDING" | "APPROVED" | "REJECTED";

/** One special application and, once approved, its grant. Subjects are kept as pseudonyms only. */
export interface SpecialApplication {
  readonly applicationId: string;
  state: ApplicationState;
  readonly requesterAgency: string;
  /** SHA-256 of the requesting certificate (the approver must also belong to another agency: separation of duties). */
  readonly requesterCertFingerprint: string;
  readonly ownerAgency: string;
  readonly subjectPseudonym: string;
  readonly categories: readonly string[];
  readonly purpose: string;
  readonly justification: string;
  readonly durationSeconds: number;
  readonly requestedAt: string;
  decidedAt?: string | undefined;
  approverAgency?: string | undefined;
  approverCertFingerprint?: string | undefined;
  note?: string | undefined;
  grantId?: string | undefined;
  maxUses?: number | undefined;
  usesLeft?: number | undefined;
  expiresAt?: string | undefined;
}

export interface ApplyInput {
  readonly requesterAgency: string;
  readonly requesterCertFingerprint: string;
  readonly ownerAgency: string;
  readonly subjectPseudonym: string;
  readonly categories: readonly string[];
  readonly purpose: string;
  readonly justification: string;
  readonly durationSeconds: number;
}

export interface DecideInput {
  readonly applicationId: string;
  readonly approverAgency: string;
  readonly approverCertFingerprint: string;
  readonly approve: boolean;
  readonly maxUses: number;
  readonly validSeconds: number;
  readonly note: string;
}

/** What a query may use from a grant it names. */
export interface GrantUse {
  readonly grantId: string;
  readonly ownerAgency: string;
  readonly categories: ReadonlySet<string>;
  readonly usesLeft: number;
}

export const MAX_GRANT_SECONDS = 30 * 86_400;
export const MAX_GRANT_USES = 1_000;

/**
 * Special applications and their grants (Planning Outline §3(5)). A grant is
 * limited in subject, categories, purpose, number of uses and time; it takes
 * effect at approval and lapses by itself (uses or time). The approver is an
 * agency certificate of the owner, and the owner is never the requesting
 * agency: no one both asks and approves, not even with a second certificate.
 */
export class SpecialAccessRegistry {
  private readonly applications = new Map<string, SpecialApplication>();
  private readonly byGrant = new Map<string, SpecialApplication>();

  /** `onChange` persists the registry (src/adapters/special-access); called after every change. */
  constructor(private readonly onChange: (all: readonly SpecialApplication[]) => void = () => {}) {}

  static restore(saved: readonly SpecialApplication[], onChange?: (all: readonly SpecialApplication[]) => void): SpecialAccessRegistry {
    const registry = new SpecialAccessRegistry(onChange);
    for (const a of saved) {
      registry.applications.set(a.applicationId, { ...a });
      if (a.grantId) registry.byGrant.set(a.grantId, registry.applications.get(a.applicationId)!);
    }
    return registry;
  }

  apply(input: ApplyInput, now: Date): SpecialApplication {
    if (input.categories.length === 0) throw new CredexError("CATEGORIES_MISSING");
    if (input.durationSeconds < 60 || input.durationSeconds > MAX_GRANT_SECONDS) {
      throw new CredexError("FIELD_INVALID", `duration_seconds must be between 60 and ${MAX_GRANT_SECONDS}`, { field: "duration_seconds" });
    }
    if (input.justification.trim().length < 10 || input.justification.length > 2_000) {
      throw new CredexError("FIELD_INVALID", "justification must be 10 to 2000 characters", { field: "justification" });
    }
    const application: SpecialApplication = { ...input, categories: [...input.categories], applicationId: randomUUID(), state: "PENDING", requestedAt: now.toISOString() };
    this.applications.set(application.applicationId, application);
    this.onChange(this.all());
    return { ...application };
  }

  decide(input: DecideInput, now: Date): SpecialApplication {
    const application = this.applications.get(input.applicationId);
    if (!application) throw new CredexError("SPECIAL_APPLICATION_UNKNOWN", undefined, { application_id: input.applicationId.slice(0, 64) });
    if (application.state !== "PENDING") throw new CredexError("SPECIAL_APPLICATION_DECIDED", undefined, { state: application.state });
    if (input.approverAgency !== application.ownerAgency) throw new CredexError("APPROVER_NOT_OWNER", undefined, { owner: application.ownerAgency });
    // No one both asks and approves (DOMAIN.md): "one" is the agency, not its certificate. An agency
    // holds as many certificates as it likes; a second one of the requester's must not approve.
    if (input.approverCertFingerprint === application.requesterCertFingerprint || input.approverAgency === application.requesterAgency) {
      throw new CredexError("SEPARATION_OF_DUTIES", `"${application.requesterAgency}" made this application: an approver of another agency (the owner) decides it`, { requester: application.requesterAgency });
    }
    application.decidedAt = now.toISOString();
    application.approverAgency = input.approverAgency;
    application.approverCertFingerprint = input.approverCertFingerprint;
    application.note = input.note.slice(0, 2_000);
    if (!input.approve) {
      application.state = "REJECTED";
    } else {
      if (input.maxUses < 1 || input.maxUses > MAX_GRANT_USES) throw new CredexError("FIELD_INVALID", `max_uses must be between 1 and ${MAX_GRANT_USES}`, { field: "max_uses" });
      const seconds = input.validSeconds === 0 ? application.durationSeconds : Math.min(input.validSeconds, application.durationSeconds);
      application.state = "APPROVED";
      application.grantId = randomUUID();
      application.maxUses = input.maxUses;
      application.usesLeft = input.maxUses;
      application.expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
      this.byGrant.set(application.grantId, application);
    }
    this.onChange(this.all());
    return { ...application };
  }

  /**
   * Spends one use of a grant for a query, after checking it covers the
   * requester, subject, purpose and every category asked for. A use is spent
   * by every query that names the grant and passes these checks.
   */
  use(grantId: string, query: { requesterAgency: string; subjectPseudonym: string; purpose: string; categories: readonly string[] }, now: Date): GrantUse {
    const a = this.byGrant.get(grantId);
    if (!a || a.state !== "APPROVED") throw new CredexError("SPECIAL_GRANT_UNKNOWN");
    if (a.requesterAgency !== query.requesterAgency || a.subjectPseudonym !== query.subjectPseudonym || a.purpose !== query.purpose) {
      throw new CredexError("SPECIAL_GRANT_MISMATCH", "the special grant is for another requester, subject or purpose");
    }
    const covered = new Set(a.categories);
    const outside = query.categories.find((c) => !covered.has(c));
    if (outside !== undefined) throw new CredexError("SPECIAL_GRANT_MISMATCH", `the special grant does not cover "${outside}"`, { category: outside });
    if (now.getTime() >= Date.parse(a.expiresAt!)) throw new CredexError("SPECIAL_GRANT_EXPIRED", undefined, { expired_at: a.expiresAt! });
    if ((a.usesLeft ?? 0) <= 0) throw new CredexError("SPECIAL_GRANT_EXHAUSTED", undefined, { max_uses: String(a.maxUses) });
    a.usesLeft = a.usesLeft! - 1;
    this.onChange(this.all());
    return { grantId, ownerAgency: a.ownerAgency, categories: covered, usesLeft: a.usesLeft };
  }

  get(applicationId: string): SpecialApplication | undefined {
    const a = this.applications.get(applicationId);
    return a ? { ...a } : undefined;
  }

  all(): SpecialApplication[] {
    return [...this.applications.values()].map((a) => ({ ...a }));
  }
}
