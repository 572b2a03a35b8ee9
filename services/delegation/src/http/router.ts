import { BREAK_GLASS_HEADER, breakGlassReasonOf, DELEGATION_ACCESS, refusalTitle, type EndpointAccess } from '@tandem/auth';
import { FrameworkIdSchema, IdSchema, lateEntryQuestion, occurredAtProblem, parseCommand, SetOnCallRotaSchema } from '@tandem/contracts';
import { InvalidAppend, WrongExpectedRevision, type EventStore } from '@tandem/event-store';
import { IdempotencyKeyReused, storableJson } from '@tandem/commands';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { isAdjustable, type Clock } from '../application/clock';
import { DelegationCommandRefused, DelegationNotFound } from '../application/errors';
import { englandDate } from '@tandem/contracts';
import { competencyStreamId, onCallRotaStreamId } from '../application/streams';
import { standingPrompts } from '../application/dose-prompts';
import { worklistFor } from '../application/worklist';
import type { DelegationReactor } from '../reactions/reactor';
import type { Scheduler } from '../scheduler/scheduler';
import { authenticate, principalOf, type About, type DelegationAccess } from './access';
import { sendProblem } from './problem';
import { DELEGATION_ROUTES, type DelegationApi } from './routes';

const MIN_POSITION_HEADER = 'x-tandem-min-position';
const READ_YOUR_WRITES_WAIT_MS = 5000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A calendar day written YYYY-MM-DD that exists (2026-13-45 and 2026-02-30 do not). */
const isCalendarDate = (value: string): boolean => {
  const day = new Date(`${value}T00:00:00Z`);
  return DATE.test(value) && !Number.isNaN(day.getTime()) && day.toISOString().startsWith(value);
};

/** A true/false query parameter, or left out; anything else is refused naming it (never read as "all" or as false). */
const booleanParam = (req: Request, name: string): boolean | undefined => {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new BadRequest(name, `${name} must be true or false`);
};

export interface DelegationRouterDeps {
  readonly api: DelegationApi;
  readonly access: DelegationAccess;
  readonly processor: DelegationReactor;
  readonly scheduler: Scheduler;
  readonly store: EventStore;
  readonly clock: Clock;
  /** Mount /admin/clock (embedded mode with an adjustable test clock only). */
  readonly testClock: boolean;
}

class Forbidden extends Error {}

/** The items a command names by id in its path, and their names in words. */
const ITEM_IDS = ['escalationId', 'delegationId', 'promptId'] as const;
const ITEM_WORDS: Readonly<Record<(typeof ITEM_IDS)[number], string>> = { escalationId: 'escalation', delegationId: 'delegation', promptId: 'prompt' };
class BadRequest extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A practitioner id from a path or query, checked as the contracts check one (a NUL byte in it reached the SQL: 500). */
const practitionerIdParam = (field: string, value: string): string => {
  if (!IdSchema.safeParse(value).success) throw new BadRequest(field, `${field} must be a practitioner id`);
  return value;
};

class ConfirmationNeeded extends Error {
  readonly field = 'occurredAt';
}

/**
 * A person's command dated more than OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS back (issue 9.6: training
 * started "1901-01-01" was stored): never refused, but taken only once confirmed, as a care entry.
 */
const lateUnconfirmed = (occurredAt: string, confirmedLate: unknown, now: Date): void => {
  const question = lateEntryQuestion(occurredAt, confirmedLate, now);
  if (question) throw new ConfirmationNeeded(question);
};

const statusOf = (result: { replayed: boolean; eventIds: readonly string[] }) => (result.replayed ? 200 : result.eventIds.length > 0 ? 201 : 200);

/**
 * The delegation service's JSON API: commands for nurses and care workers (a table, as the care
 * record's), their reads (worklist, delegations, escalations, prompts, frameworks), and, in the
 * embedded mode with TANDEM_TEST_CLOCK, the test clock. Errors are problem+json naming the field;
 * a refusal stores nothing.
 */
export const delegationRouter = ({ api, access, processor, scheduler, store, clock, testClock }: DelegationRouterDeps): Router => {
  const router = Router();
  const refuseAuth = authenticate(access.control, (res, error) => sendProblem(res, error.status, refusalTitle(error), error.message));
  const guarded = ['/api/competences', '/api/delegations', '/api/escalations', '/api/prompts', '/api/worklist', '/api/frameworks', '/api/oncall-rotas', '/admin/clock', '/admin/timers'];
  for (const prefix of guarded) {
    router.use(prefix, refuseAuth);
    router.use(prefix, express.json({ limit: '256kb', strict: true, reviver: storableJson }));
  }

  const allow = async (req: Request, endpoint: EndpointAccess, about: About) => {
    const decision = await access.decide(principalOf(req), endpoint, about, breakGlassReasonOf(req.get(BREAK_GLASS_HEADER)));
    if (!decision.allowed) throw new Forbidden(decision.detail);
    return decision;
  };

  /**
   * One item read by its id: to someone outside the person's care, an item that exists answers as
   * one that does not (issue 16.7: a 403 naming the person told an outsider that the escalation
   * existed and whose it was). The refusal is still decided, and kept in the access trail, by allow.
   */
  const allowOrNotFound = async (req: Request, endpoint: EndpointAccess, about: About, notFound: () => Error, onlyOutsiders = false) => {
    const decision = await access.decide(principalOf(req), endpoint, about, breakGlassReasonOf(req.get(BREAK_GLASS_HEADER)));
    if (decision.allowed) return decision;
    // For a command, only the person's outsiders are told "no such item"; someone in their care refused
    // for their role (a GP resolving a prompt) is told why.
    throw !onlyOutsiders || decision.reason === 'relationship' ? notFound() : new Forbidden(decision.detail);
  };

  /**
   * A list answer keeps only the people the user may reach with the endpoint (the same per-person
   * rule as a direct read of the person's record) and names them in the access trail.
   */
  const narrowed = async <Row extends { patientId: string }>(req: Request, endpoint: EndpointAccess, rows: readonly Row[]): Promise<Row[]> => {
    const reachable = await access.reachable(principalOf(req), endpoint, rows.map((r) => r.patientId));
    const kept = rows.filter((r) => reachable.has(r.patientId));
    access.control.disclose([...new Set(kept.map((r) => r.patientId))]);
    return kept;
  };

  /** Read-your-writes: waits (briefly) until the read model holds the client's last write. */
  const caughtUp = async (req: Request) => {
    const raw = req.get(MIN_POSITION_HEADER);
    if (raw === undefined) return;
    const position = Number(raw);
    if (!Number.isSafeInteger(position) || position < 0) throw new BadRequest(MIN_POSITION_HEADER, `${MIN_POSITION_HEADER} must be a position returned by a command`);
    await processor.waitFor(position, READ_YOUR_WRITES_WAIT_MS);
  };

  const handle =
    (handler: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response, next: NextFunction): void => {
      handler(req, res).catch(next);
    };

  for (const route of DELEGATION_ROUTES) {
    router.post(
      route.path,
      handle(async (req, res) => {
        const { actor } = principalOf(req);
        if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
          sendProblem(res, 400, 'Invalid command', 'The body must be a JSON object', { errors: [{ field: '(body)', message: 'must be a JSON object' }] });
          return;
        }
        const input: Record<string, unknown> = { ...(req.body as Record<string, unknown>) };
        for (const param of route.pathParams) {
          const value = req.params[param];
          if (input[param] !== undefined && input[param] !== value) throw new BadRequest(param, `${param} in the body does not match the path`);
          input[param] = value;
        }
        const parsed = parseCommand(route.schema, input);
        if (!parsed.ok) {
          const errors = parsed.issues.map((i) => ({ field: i.path || '(body)', message: i.message }));
          sendProblem(res, 400, 'Invalid command', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
          return;
        }
        const command = { ...(parsed.value as Record<string, unknown>) };
        const now = clock.now();
        const stamped = command.occurredAt === undefined ? ['occurredAt'] : [];
        if (command.occurredAt === undefined) command.occurredAt = now.toISOString();
        const future = occurredAtProblem(String(command.occurredAt), now);
        if (future) throw new BadRequest('occurredAt', `occurredAt ${future}`);
        lateUnconfirmed(String(command.occurredAt), command.confirmedLate, now);
        const item = ITEM_IDS.find((name) => route.pathParams.includes(name));
        const about = await route.about(api, command as never);
        // A command on an item someone outside the person's care names: answered as for an item that
        // does not exist (issue 16.7), exactly as the item's read is; the refusal is still in the trail.
        if (item) await allowOrNotFound(req, DELEGATION_ACCESS[route.operationId], about, () => new DelegationNotFound(item, `There is no ${ITEM_WORDS[item]} ${String(command[item])}`), true);
        else await allow(req, DELEGATION_ACCESS[route.operationId], about);
        const result = await route.run(api, command as never, actor, { stamped });
        res.status(statusOf(result)).set('X-Tandem-Position', String(result.position)).json(result);
      }),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------------------------

  router.get(
    '/api/frameworks',
    handle(async (req, res) => {
      await allow(req, DELEGATION_ACCESS.ReadFrameworks, 'nobody');
      res.json({
        frameworks: api.commands.frameworks.all().map((f) => ({
          id: f.id,
          version: f.version,
          title: f.title,
          summary: f.summary,
          activities: f.activities,
          mayDelegate: f.mayDelegate,
          mayReceive: f.mayReceive,
          settings: f.settings,
        })),
      });
    }),
  );

  router.get(
    '/api/frameworks/:frameworkId',
    handle(async (req, res) => {
      await allow(req, DELEGATION_ACCESS.ReadFrameworks, 'nobody');
      res.json(api.commands.framework(req.params.frameworkId as string));
    }),
  );

  router.get(
    '/api/worklist',
    handle(async (req, res) => {
      const { actor } = principalOf(req);
      const careWorkerId = typeof req.query.careWorkerId === 'string' ? practitionerIdParam('careWorkerId', req.query.careWorkerId) : actor.id;
      if (careWorkerId !== actor.id && actor.role === 'care-worker') throw new Forbidden('A care worker reads their own worklist');
      const date = typeof req.query.date === 'string' ? req.query.date : englandDate(clock.now());
      if (!isCalendarDate(date)) throw new BadRequest('date', 'date must be a day of the calendar written YYYY-MM-DD');
      await allow(req, DELEGATION_ACCESS.ReadWorklist, 'nobody');
      await caughtUp(req);
      const worklist = await worklistFor({ careWorkerId, date, now: clock.now(), views: api.views, store, frameworks: api.commands.frameworks });
      // Only the people the reader may reach: a GP, a nurse of another team or another person's launch token reads nobody else's care.
      const everyone = [...worklist.items, ...worklist.monitoring, ...worklist.awaitingAnswer, ...worklist.prompts, ...worklist.escalations].map((r) => r.patientId);
      const reachable = await access.reachable(principalOf(req), DELEGATION_ACCESS.ReadWorklist, everyone);
      const mine = <Row extends { patientId: string }>(rows: readonly Row[]) => rows.filter((r) => reachable.has(r.patientId));
      access.control.disclose([...new Set(everyone.filter((id) => reachable.has(id)))]);
      res.json({
        ...worklist,
        items: mine(worklist.items),
        monitoring: mine(worklist.monitoring),
        awaitingAnswer: mine(worklist.awaitingAnswer),
        prompts: mine(worklist.prompts),
        escalations: mine(worklist.escalations),
      });
    }),
  );

  const patientParam = (req: Request): string | undefined => (typeof req.query.patientId === 'string' ? req.query.patientId : undefined);
  const openParam = (req: Request): boolean | undefined => booleanParam(req, 'open');
  /** `open=true` the open ones, `open=false` the closed ones, left out: all. */
  const openFilter = (req: Request): { open?: boolean } => {
    const open = openParam(req);
    return open === undefined ? {} : { open };
  };

  router.get(
    '/api/delegations',
    handle(async (req, res) => {
      const { actor } = principalOf(req);
      const patientId = patientParam(req);
      await allow(req, DELEGATION_ACCESS.ReadDelegations, patientId ? { patientId } : 'nobody');
      await caughtUp(req);
      const delegations = patientId
        ? await api.views.delegationsForPatient(patientId)
        : await narrowed(req, DELEGATION_ACCESS.ReadDelegations, [...(await api.views.delegationsForCareWorker(actor.id)), ...(await api.views.delegationsBy(actor.id))]);
      res.json({ delegations });
    }),
  );

  router.get(
    '/api/delegations/:delegationId',
    handle(async (req, res) => {
      const delegationId = req.params.delegationId as string;
      const loaded = await api.commands.loadDelegation(delegationId);
      const notFound = () => new DelegationNotFound('delegationId', `There is no delegation ${delegationId}`);
      if (!loaded) throw notFound();
      await allowOrNotFound(req, DELEGATION_ACCESS.ReadDelegations, { patientId: loaded.state.context.patientId! }, notFound);
      const { framework: _framework, ...context } = loaded.state.context;
      res.json({
        delegationId,
        status: loaded.state.value,
        frameworkId: loaded.framework.id,
        context,
        events: loaded.events.map((e) => ({ type: e.type, data: e.data, occurredAt: e.metadata.occurredAt, recordedAt: e.metadata.recordedAt, actor: e.metadata.actor, position: e.position })),
      });
    }),
  );

  router.get(
    '/api/escalations',
    handle(async (req, res) => {
      const { actor } = principalOf(req);
      const patientId = patientParam(req);
      const filter = openFilter(req);
      await allow(req, DELEGATION_ACCESS.ReadEscalations, patientId ? { patientId } : 'nobody');
      await caughtUp(req);
      let escalations;
      if (patientId) escalations = await api.views.escalations({ patientId, ...filter });
      else {
        // Without a person: the escalations that reached you (any tier, or informed), and those of
        // the people you care for (your caseload, the people you delegated for or whose delegations
        // you hold); only people you may reach. The caseload is the read model's candidates: every row
        // is confirmed on its own person's record below (narrowed), so only the people with an open
        // escalation are read, not the whole caseload first (200 people: a second; bench:apps).
        const mine = [...(await api.views.delegationsBy(actor.id)), ...(await api.views.delegationsForCareWorker(actor.id))];
        const people = new Set([...mine.map((d) => d.patientId), ...(await access.caseloadCandidates(principalOf(req)))]);
        const reached = await api.views.escalations({ ...filter, recipientId: actor.id });
        const reachedIds = new Set(reached.map((e) => e.escalationId));
        const theirs = (await api.views.escalations(filter)).filter((e) => people.has(e.patientId) && !reachedIds.has(e.escalationId));
        const all = [...reached, ...theirs].sort((a, b) => Date.parse(a.raisedAt) - Date.parse(b.raisedAt) || a.escalationId.localeCompare(b.escalationId));
        escalations = await narrowed(req, DELEGATION_ACCESS.ReadEscalations, all);
      }
      // Whether it was sent to you (at any tier, or you were informed), or is open for someone you care for.
      res.json({ escalations: escalations.map((e) => ({ ...e, reachedYou: e.recipients.some((r) => r.practitionerId === actor.id) })) });
    }),
  );

  router.get(
    '/api/escalations/:escalationId',
    handle(async (req, res) => {
      const escalationId = req.params.escalationId as string;
      const loaded = await api.commands.loadEscalation(escalationId);
      const notFound = () => new DelegationNotFound('escalationId', `There is no escalation ${escalationId}`);
      if (!loaded) throw notFound();
      await allowOrNotFound(req, DELEGATION_ACCESS.ReadEscalations, { patientId: loaded.state.context.patientId! }, notFound);
      res.json({
        escalationId,
        status: loaded.state.value,
        tier: loaded.state.context.tier,
        // the tier as people count it (1 is the first), the number the FHIR Communication shows
        tierNumber: loaded.state.context.tier + 1,
        dueAt: loaded.state.context.dueAt ?? null,
        events: loaded.events.map((e) => ({ type: e.type, data: e.data, occurredAt: e.metadata.occurredAt, recordedAt: e.metadata.recordedAt, actor: e.metadata.actor, position: e.position })),
        position: loaded.events[loaded.events.length - 1]!.position,
      });
    }),
  );

  router.get(
    '/api/prompts',
    handle(async (req, res) => {
      const { actor } = principalOf(req);
      const patientId = patientParam(req);
      await allow(req, DELEGATION_ACCESS.ReadDelegations, patientId ? { patientId } : 'nobody');
      await caughtUp(req);
      const filter = openFilter(req);
      const rows = await api.views.prompts({ ...(patientId ? { patientId } : { careWorkerId: actor.id }), ...filter });
      // The open ones as the care worker sees them: a dose-overdue prompt whose dose has an outcome is no longer waiting.
      const found = filter.open === true ? await standingPrompts(rows, store) : rows;
      const prompts = patientId ? found : await narrowed(req, DELEGATION_ACCESS.ReadDelegations, found);
      res.json({ prompts });
    }),
  );

  router.get(
    '/api/competences/:careWorkerId',
    handle(async (req, res) => {
      const { actor } = principalOf(req);
      const careWorkerId = practitionerIdParam('careWorkerId', req.params.careWorkerId as string);
      if (actor.role === 'care-worker' && careWorkerId !== actor.id) throw new Forbidden('A care worker reads their own competences');
      await allow(req, DELEGATION_ACCESS.ReadDelegations, 'nobody');
      await caughtUp(req);
      res.json({ careWorkerId, competences: await api.views.competences(careWorkerId) });
    }),
  );

  router.get(
    '/api/competences/:careWorkerId/:frameworkId',
    handle(async (req, res) => {
      const { actor } = principalOf(req);
      const careWorkerId = practitionerIdParam('careWorkerId', req.params.careWorkerId as string);
      const frameworkId = req.params.frameworkId as string;
      if (actor.role === 'care-worker' && careWorkerId !== actor.id) throw new Forbidden('A care worker reads their own competences');
      await allow(req, DELEGATION_ACCESS.ReadDelegations, 'nobody');
      const notFound = () => new DelegationNotFound('frameworkId', `${careWorkerId} has no competence record for ${frameworkId}`);
      if (!FrameworkIdSchema.safeParse(frameworkId).success) throw notFound();
      const state = await api.commands.loadCompetence(careWorkerId, frameworkId);
      if (!state) throw notFound();
      // The history, as the passport shows it: every step with who took it and when (the stream is the truth, not the row).
      const events = await store.readStream(competencyStreamId(careWorkerId, frameworkId));
      res.json({
        careWorkerId,
        frameworkId,
        status: state.value,
        validUntil: state.context.validUntil ?? null,
        modulesCompleted: state.context.modulesCompleted,
        satisfactoryPractices: state.context.satisfactoryPractices,
        events: events.map((e) => ({ type: e.type, data: e.data, occurredAt: e.metadata.occurredAt, recordedAt: e.metadata.recordedAt, actor: e.metadata.actor, position: e.position })),
        position: events[events.length - 1]!.position,
      });
    }),
  );

  // ---------------------------------------------------------------------------------------------
  // On-call rotas: who the on-call tier of an escalation reaches, per organisation (data, changeable)
  // ---------------------------------------------------------------------------------------------

  router.get(
    '/api/oncall-rotas/:organisationId',
    handle(async (req, res) => {
      const organisationId = practitionerIdParam('organisationId', req.params.organisationId as string);
      await allow(req, DELEGATION_ACCESS.ReadOnCallRota, 'nobody');
      const events = await store.readStream(onCallRotaStreamId(organisationId));
      const last = [...events].reverse().find((e) => e.type === 'OnCallRotaSet');
      if (!last) throw new DelegationNotFound('organisationId', `No on-call rota is set for ${organisationId}`);
      res.json({ ...(last.data as object), setAt: last.metadata.occurredAt, setBy: last.metadata.actor.id, position: last.position });
    }),
  );

  router.put(
    '/api/oncall-rotas/:organisationId',
    handle(async (req, res) => {
      const { actor } = principalOf(req);
      if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
        sendProblem(res, 400, 'Invalid command', 'The body must be a JSON object', { errors: [{ field: '(body)', message: 'must be a JSON object' }] });
        return;
      }
      const input: Record<string, unknown> = { ...(req.body as Record<string, unknown>) };
      const organisationId = req.params.organisationId as string;
      if (input.organisationId !== undefined && input.organisationId !== organisationId) throw new BadRequest('organisationId', 'organisationId in the body does not match the path');
      input.organisationId = organisationId;
      const stamped = input.occurredAt === undefined ? ['occurredAt'] : [];
      if (input.occurredAt === undefined) input.occurredAt = clock.now().toISOString();
      const parsed = parseCommand(SetOnCallRotaSchema, input);
      if (!parsed.ok) {
        const errors = parsed.issues.map((i) => ({ field: i.path || '(body)', message: i.message }));
        sendProblem(res, 400, 'Invalid command', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
        return;
      }
      const future = occurredAtProblem(parsed.value.occurredAt, clock.now());
      if (future) throw new BadRequest('occurredAt', `occurredAt ${future}`);
      lateUnconfirmed(parsed.value.occurredAt, parsed.value.confirmedLate, clock.now());
      await allow(req, DELEGATION_ACCESS.SetOnCallRota, { organisationId });
      const result = await api.commands.setOnCallRota(parsed.value, actor, { stamped });
      res.status(statusOf(result)).set('X-Tandem-Position', String(result.position)).json(result);
    }),
  );

  // ---------------------------------------------------------------------------------------------
  // The test clock (embedded mode, TANDEM_TEST_CLOCK=true): a system token moves time on and the
  // due timers fire, so a demo need not wait 30 minutes for a re-escalation.
  // ---------------------------------------------------------------------------------------------

  if (testClock && isAdjustable(clock)) {
    const systemOnly = (req: Request) => {
      if (principalOf(req).actor.role !== 'system') throw new Forbidden('The test clock needs a system token');
    };
    router.get(
      '/admin/clock',
      handle(async (req, res) => {
        systemOnly(req);
        res.json({ now: clock.now().toISOString(), test: true });
      }),
    );
    router.post(
      '/admin/clock/advance',
      handle(async (req, res) => {
        systemOnly(req);
        // A number, not whatever Number() makes of null, [], [5], true or '30'.
        const given = (req.body as { minutes?: unknown } | undefined)?.minutes;
        const minutes = typeof given === 'number' ? given : NaN;
        if (!Number.isFinite(minutes) || minutes < 0 || minutes > 60 * 24 * 400) throw new BadRequest('minutes', 'minutes must be a number from 0 to 576000');
        await processor.settle();
        const now = clock.advance(minutes * 60_000);
        const fired = await scheduler.runDue();
        await processor.settle();
        res.json({ now: now.toISOString(), fired, position: processor.position });
      }),
    );
    router.get(
      '/admin/timers',
      handle(async (req, res) => {
        systemOnly(req);
        res.json({ now: clock.now().toISOString(), timers: await api.views.timers({ pending: booleanParam(req, 'pending') ?? false }) });
      }),
    );
  }

  router.use(['/api', '/admin'], (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof Forbidden) return sendProblem(res, 403, 'Forbidden', error.message);
    if (error instanceof ConfirmationNeeded) return sendProblem(res, 409, 'Confirmation needed', error.message, { code: 'time.late-entry', errors: [{ field: error.field, message: error.message }] });
    if (error instanceof BadRequest) return sendProblem(res, 400, 'Invalid command', error.message, { errors: [{ field: error.field, message: error.message }] });
    if (error instanceof DelegationNotFound) return sendProblem(res, 404, 'Not Found', error.message, { errors: [{ field: error.field, message: error.message }] });
    if (error instanceof DelegationCommandRefused) {
      return sendProblem(res, error.status, error.status === 403 ? 'Forbidden' : error.status === 409 ? 'Not allowed now' : 'Rule broken', error.refusal.reason, {
        code: error.refusal.code,
        errors: error.refusal.errors ?? [{ field: error.refusal.field, message: error.refusal.reason }],
      });
    }
    if (error instanceof IdempotencyKeyReused) {
      return sendProblem(res, 422, 'Idempotency key reused', error.message, { code: 'idempotency-key.reused', errors: [{ field: error.field, message: error.message }] });
    }
    if (error instanceof InvalidAppend) return sendProblem(res, 400, 'Invalid command', error.message, { errors: error.issues });
    if (error instanceof WrongExpectedRevision) return sendProblem(res, 409, 'Conflict', 'The record changed while this was being recorded; try again');
    const bodyError = error as { type?: string };
    if (bodyError.type === 'entity.parse.failed') return sendProblem(res, 400, 'Invalid JSON', 'The body is not valid JSON', { errors: [{ field: '(body)', message: 'is not valid JSON' }] });
    if (bodyError.type === 'entity.too.large') return sendProblem(res, 413, 'Too large', 'The body is larger than 256 kB');
    return next(error);
  });
  return router;
};
