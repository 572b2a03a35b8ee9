import { principalOf } from '@tandem/http-auth';
import {
  BREAK_GLASS_HEADER,
  breakGlassReasonOf,
  FHIR_ACCESS,
  mayBreakGlass,
  needsMemberDetails,
  POLICY,
  RELATIONSHIPS,
  type AccessControl,
  type Decision,
  type EndpointAccess,
  type PatientFacts,
  type Principal,
  type Target,
} from '@tandem/auth';
import type { Role } from '@tandem/contracts';
import type { FhirReader, SearchQuery } from '@tandem/fhir-read-model';
import type { FhirResource } from 'fhir/r4';
import type { Request, Response } from 'express';
import { PatientNotFound, type CareRecord } from '../application/care-record';

/** The response header that flags a break-glass read. */
export const BREAK_GLASS_USED_HEADER = 'X-Tandem-Break-Glass';

/** What a request is about, as the route knows it from its path or the stored resource (never from a body's say-so). */
export type About = { readonly patientId: string } | { readonly organisationId: string } | 'people' | 'nobody';

const PATIENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAGE = 1000;

/**
 * @deprecated The HTTP side of authentication moved to @tandem/http-auth (ADR 0018), the principal
 * carried on the request; import it from there. Re-exported here for one session.
 */
export { authenticate, principalOf } from '@tandem/http-auth';

/**
 * The record service's side of the policy: it knows who cares for a person (from the person's
 * own stream, not from a body or the read model) and asks @tandem/auth to decide.
 */
export class RecordAccess {
  constructor(
    private readonly care: CareRecord,
    private readonly reader: FhirReader,
    readonly control: AccessControl,
  ) {}

  /** Who cares for the person, from the patient stream; undefined when no such person is recorded. */
  async factsFor(patientId: string, role: Role): Promise<PatientFacts | undefined> {
    if (!PATIENT_ID.test(patientId)) return undefined;
    let patient;
    try {
      patient = await this.care.patient(patientId);
    } catch (error) {
      if (error instanceof PatientNotFound) return undefined;
      throw error;
    }
    const withDetails = needsMemberDetails(role);
    const careTeam = await Promise.all(
      patient.careTeam.map(async (member) => {
        if (!withDetails) return { practitionerId: member.practitionerId, teamRole: member.teamRole };
        const practitioner = await this.care.practitioner(member.practitionerId);
        return { practitionerId: member.practitionerId, teamRole: member.teamRole, ...(practitioner ? { organisation: practitioner.organisationId, practitionerRole: practitioner.role } : {}) };
      }),
    );
    return {
      patientId,
      ...(patient.registeredGp ? { registeredGp: patient.registeredGp } : {}),
      ...(patient.gpPractice ? { registeredPracticeOds: patient.gpPractice.odsCode } : {}),
      ...(patient.registeredBy ? { registeredBy: patient.registeredBy } : {}),
      careTeam,
    };
  }

  private async targetFor(principal: Principal, endpoint: EndpointAccess, about: About): Promise<Target> {
    if (about === 'nobody') return { kind: 'none' };
    if (about === 'people') return { kind: 'people' };
    if ('organisationId' in about) return { kind: 'organisation', organisationId: about.organisationId };
    // The person's record is read only when the decision can turn on it.
    const facts = POLICY[principal.actor.role][endpoint.action] === 'relationship' ? await this.factsFor(about.patientId, principal.actor.role) : undefined;
    return { kind: 'patient', patientId: about.patientId, facts };
  }

  /** Decides a request and reports the decision (onAccess); a break-glass read is flagged on the response. */
  async decide(req: Request, res: Response, endpoint: EndpointAccess, about: About): Promise<Decision> {
    const principal = principalOf(req);
    const target = await this.targetFor(principal, endpoint, about);
    const breakGlassReason = breakGlassReasonOf(req.get(BREAK_GLASS_HEADER));
    const decision = this.control.authorise({ principal, action: endpoint.action, needs: endpoint.needs, target, ...(breakGlassReason ? { breakGlassReason } : {}) });
    if (decision.breakGlass) res.set(BREAK_GLASS_USED_HEADER, 'used');
    return decision;
  }

  /** Of these people, those the principal may reach with this endpoint (decided, not reported: it narrows a search). */
  async confirm(principal: Principal, endpoint: EndpointAccess, patientIds: Iterable<string>): Promise<string[]> {
    const ids = [...new Set(patientIds)];
    const allowed = await Promise.all(ids.map((patientId) => this.allows(principal, endpoint, { patientId })));
    return ids.filter((_, i) => allowed[i]);
  }

  /**
   * Whether the policy allows this (decided, not reported): what a search may include, with the
   * request's break-glass reason counting as it would on a direct read.
   */
  async allows(principal: Principal, endpoint: EndpointAccess, about: About, breakGlassReason?: string): Promise<boolean> {
    const target = await this.targetFor(principal, endpoint, about);
    return this.control.decide({ principal, action: endpoint.action, needs: endpoint.needs, target, ...(breakGlassReason ? { breakGlassReason } : {}) }).allowed;
  }

  /** The break-glass reason this request gives, if any. */
  breakGlassReasonOf(req: Request): string | undefined {
    return breakGlassReasonOf(req.get(BREAK_GLASS_HEADER));
  }

  /**
   * A registration found the NHS number already registered, to someone this caller did not
   * register: may the answer say anything about that person (their id, their record)? Only what a
   * read of their Patient would show: the same scopes, relationship and break-glass, decided and
   * reported like a read (so the access trail names the person). When refused, `detail` is what
   * the caller is told: no id and nothing of the record, only that the person is registered
   * already (which a create that finds someone cannot hide) and what to do.
   */
  async existingPerson(req: Request, res: Response, patientId: string): Promise<Decision> {
    const decision = await this.decide(req, res, FHIR_ACCESS.read('Patient'), { patientId });
    if (decision.allowed) return decision;
    const glass = decision.reason === 'relationship' && mayBreakGlass(decision.actor.role, 'fhir.read');
    const why = decision.reason === 'relationship' ? 'they are not in your care' : `you may not read their record (${decision.reason})`;
    return {
      ...decision,
      detail:
        `This NHS number is already registered and ${why}: nothing of their record is shown. ` +
        'To care for them, ask whoever is responsible for them (their care team, their registered GP, the manager of the service caring for them) to add you to their team' +
        (glass ? '; in an emergency, register again giving a reason in the X-Tandem-Break-Glass header (a break-glass read, flagged and reported)' : ''),
    };
  }

  /**
   * The user's caseload, for narrowing a search that names no one: candidates from the read model
   * (care teams the user or, for nurses and managers, a colleague of their organisation is in; a
   * GP's registered patients), each confirmed against the person's own record. Someone added to
   * a team a moment ago appears once the read model has caught up.
   */
  async caseload(principal: Principal, endpoint: EndpointAccess): Promise<string[]> {
    return this.confirm(principal, endpoint, await this.caseloadCandidates(principal));
  }

  /**
   * The caseload's candidates from the read model, not yet confirmed: for a list whose every row is
   * then confirmed on its own person's record (the delegation service's `narrowed`), so that only
   * the people it shows are read, not the whole caseload twice.
   */
  async caseloadCandidates(principal: Principal): Promise<Set<string>> {
    const { actor } = principal;
    const practitioners = new Set([actor.id]);
    if (needsMemberDetails(actor.role) && actor.organisation) {
      for (const role of await this.all('PractitionerRole', { organization: `Organization/${actor.organisation}` })) {
        const ref = (role as { practitioner?: { reference?: string } }).practitioner?.reference;
        if (ref?.startsWith('Practitioner/')) practitioners.add(ref.slice('Practitioner/'.length));
      }
    }
    const candidates = new Set<string>();
    for (const team of await this.all('CareTeam', { participant: [...practitioners].map((p) => `Practitioner/${p}`).join(',') })) {
      const ref = (team as { subject?: { reference?: string } }).subject?.reference;
      if (ref?.startsWith('Patient/')) candidates.add(ref.slice('Patient/'.length));
    }
    if (RELATIONSHIPS[actor.role].some((rule) => rule.kind === 'registered-gp')) {
      for (const patient of await this.all('Patient', { 'general-practitioner': `Practitioner/${actor.id}` })) if (patient.id) candidates.add(patient.id);
    }
    return candidates;
  }

  private async all(type: string, query: SearchQuery): Promise<FhirResource[]> {
    const found: FhirResource[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.reader.search(type, { ...query, _count: String(PAGE), _offset: String(offset) });
      found.push(...page.matches);
      if (page.matches.length < PAGE) return found;
    }
  }
}
