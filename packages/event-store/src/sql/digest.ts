import { createHash } from 'node:crypto';
import type { SqlDriver, SqlQueryable } from './driver';

/**
 * The periodic digest over the global log (docs/decisions/0010-global-digest.md).
 *
 * Digest n covers every event with position in (up_to of n-1, up_to of n] (digest 1: every event up
 * to its up_to) and is sha256(digest n-1 || for each of those events in position order: the
 * position as 8 bytes big-endian || the event's hash). A stream's hash chain cannot see its own
 * last events removed (with the stream row set back to match), a whole stream removed, or a stream's
 * chain recomputed after an edit; the digest sees all three, for the part of the log it covers.
 *
 * A digest covers only positions below the readers' visible bound: no transaction can ever write
 * there again, so a sealed range is final and an event that appears in it later was inserted.
 */

export interface SealedDigest {
  readonly sequence: number;
  /** The last position covered (inclusive): the visible bound at sealing, minus one. */
  readonly upToPosition: number;
  readonly eventCount: number;
  /** sha256, lowercase hex. */
  readonly digest: string;
  readonly sealedAt: string;
}

export interface SealResult {
  /** The digests this call sealed, oldest first; empty when nothing new was appended. */
  readonly sealed: readonly SealedDigest[];
  /** The newest digest in the store after this call (sealed now or before), if any. */
  readonly latest: SealedDigest | undefined;
  /** Another process was sealing at the same moment; it seals what this call did not. */
  readonly busy: boolean;
}

export interface SealOptions {
  /** A long backlog (the first seal of a large store) is sealed as several digests of at most this many events, one transaction each. */
  readonly maxEventsPerDigest?: number;
  readonly pageSize?: number;
  /** Stops between two digests (the sealer's stop()). */
  readonly signal?: AbortSignal;
}

export const DEFAULT_MAX_EVENTS_PER_DIGEST = 100_000;
const DEFAULT_PAGE_SIZE = 5_000;
/** Below every position: the lower end of the first digest's range. */
const MIN_POSITION = '-9223372036854775808';
/**
 * The sealers' lock, per schema: two int4 keys (a key space apart from the bigint migration lock),
 * the second the digest table's oid so test schemas in one database do not contend.
 */
const SEAL_LOCK = `pg_try_advisory_xact_lock(7316, 'tandem_digests'::regclass::oid::int4)`;
/** One event's contribution to the digest. A row written without a hash contributes the hash of its content alone. */
const LINK_SQL = `int8send(position) || coalesce(hash, tandem_event_hash(null, event_id, stream_name, stream_revision, type, schema_version, data, metadata, recorded_at))`;
/**
 * Numbers are read as text (a bigint does not fit a JS number exactly), under the columns' own names:
 * so every ORDER BY here names the table's column (`tandem_events.position`), since a bare name
 * means the output column, and text orders "100000000" before "99999999" (a false tamper alarm).
 */
const DIGEST_COLUMNS = 'sequence::text as sequence, up_to_position::text as up_to_position, event_count::text as event_count, digest, sealed_at';

interface DigestRow {
  sequence: string;
  up_to_position: string;
  event_count: string;
  digest: Uint8Array;
  sealed_at: Date | string;
}

interface LinkRow {
  position: string;
  link: Uint8Array;
}

const toDigest = (row: DigestRow): SealedDigest => ({
  sequence: Number(row.sequence),
  upToPosition: Number(row.up_to_position),
  eventCount: Number(row.event_count),
  digest: Buffer.from(row.digest).toString('hex'),
  sealedAt: new Date(row.sealed_at).toISOString(),
});

/** The newest sealed digest, if any. */
export const latestDigest = async (db: SqlQueryable): Promise<SealedDigest | undefined> => {
  const [row] = await db.query<DigestRow>(`select ${DIGEST_COLUMNS} from tandem_digests order by tandem_digests.sequence desc limit 1`);
  return row ? toDigest(row) : undefined;
};

/** Every event's link with position in (after, upTo], in position order, a page at a time. */
async function* links(db: SqlQueryable, after: string, upTo: string, pageSize: number): AsyncGenerator<LinkRow> {
  for (let from = after; ; ) {
    const page = await db.query<LinkRow>(
      `select position::text as position, ${LINK_SQL} as link from tandem_events
        where position > $1::bigint and position <= $2::bigint order by tandem_events.position limit $3`,
      [from, upTo, pageSize],
    );
    yield* page;
    if (page.length < pageSize) return;
    from = page[page.length - 1]!.position;
  }
}

type SealOne = { readonly kind: 'sealed'; readonly digest: SealedDigest } | { readonly kind: 'nothing-new' } | { readonly kind: 'busy' };

const sealOne = (db: SqlDriver, maxEvents: number, pageSize: number): Promise<SealOne> =>
  db.transaction(async (tx): Promise<SealOne> => {
    const [lock] = await tx.query<{ locked: boolean }>(`select ${SEAL_LOCK} as locked`);
    if (!lock?.locked) return { kind: 'busy' };
    // Read after taking the lock, so a sealer that just committed is seen. The bound is taken once:
    // everything below it is committed and final, whatever commits while this digest is computed.
    const [state] = await tx.query<{ bound: string; sequence: string | null; up_to: string | null; digest: Uint8Array | null; pending: boolean }>(
      `select b.bound::text as bound, d.sequence::text as sequence, d.up_to_position::text as up_to, d.digest,
              exists (select 1 from tandem_events e where e.position > coalesce(d.up_to_position, $1::bigint) and e.position < b.bound) as pending
         from (select tandem_visible_bound() as bound) b
         left join lateral (select * from tandem_digests order by sequence desc limit 1) d on true`,
      [MIN_POSITION],
    );
    // Nothing appended (or nothing final yet) since the last digest: no row, two small queries.
    if (!state?.pending) return { kind: 'nothing-new' };

    const hash = createHash('sha256').update(state.digest ?? Buffer.alloc(0));
    let count = 0;
    let upTo = (BigInt(state.bound) - 1n).toString();
    for await (const row of links(tx, state.up_to ?? MIN_POSITION, upTo, pageSize)) {
      hash.update(row.link);
      count += 1;
      if (count === maxEvents) {
        upTo = row.position;
        break;
      }
    }
    const sequence = state.sequence === null ? 1 : Number(state.sequence) + 1;
    // The lock makes a second digest for the same range impossible; the unique keys make it certain.
    const [row] = await tx.query<DigestRow>(
      `insert into tandem_digests (sequence, up_to_position, event_count, digest) values ($1, $2::bigint, $3, $4)
       on conflict do nothing returning ${DIGEST_COLUMNS}`,
      [sequence, upTo, count, hash.digest()],
    );
    return row ? { kind: 'sealed', digest: toDigest(row) } : { kind: 'busy' };
  });

/**
 * Seals the part of the global log that is final and not yet covered: one digest, or several of at
 * most `maxEventsPerDigest` events when the backlog is long. Safe to call from several processes
 * at once (one seals, the others return `busy`) and cheap when nothing new was appended (no row).
 */
export const sealDigest = async (db: SqlDriver, options: SealOptions = {}): Promise<SealResult> => {
  const maxEvents = options.maxEventsPerDigest ?? DEFAULT_MAX_EVENTS_PER_DIGEST;
  const pageSize = Math.min(options.pageSize ?? DEFAULT_PAGE_SIZE, maxEvents);
  if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new Error(`maxEventsPerDigest must be a positive integer, not ${maxEvents}`);
  const sealed: SealedDigest[] = [];
  let busy = false;
  while (!options.signal?.aborted) {
    const result = await sealOne(db, maxEvents, pageSize);
    if (result.kind === 'busy') busy = true;
    if (result.kind !== 'sealed') break;
    sealed.push(result.digest);
    if (result.digest.eventCount < maxEvents) break;
  }
  return { sealed, latest: sealed.at(-1) ?? (await latestDigest(db)), busy };
};

/** What the sealer logs; a pino logger fits. */
export interface DigestLogger {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface DigestSealerOptions extends Omit<SealOptions, 'signal'> {
  readonly db: SqlDriver;
  readonly intervalMs: number;
  readonly logger?: DigestLogger;
  /** Seal once at once, then every interval: a server started on an existing log has a digest from the start. */
  readonly sealAtStart?: boolean;
}

export interface DigestSealer {
  /** Stops the timer and waits for a seal in progress; call it before closing the database. */
  stop(): Promise<void>;
}

/**
 * Seals a digest every `intervalMs` in the background. Runs never overlap (a tick while one runs
 * is skipped), errors are logged and the next tick tries again, and the timer does not keep the
 * process alive.
 */
export const startDigestSealer = ({ db, intervalMs, logger, sealAtStart, ...sealOptions }: DigestSealerOptions): DigestSealer => {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) throw new Error(`intervalMs must be a positive number, not ${intervalMs}`);
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const tick = () => {
    if (running || abort.signal.aborted) return;
    running = sealDigest(db, { ...sealOptions, signal: abort.signal })
      .then(
        ({ sealed, latest }) => {
          if (sealed.length > 0 && latest) {
            logger?.info({ digests: sealed.length, sequence: latest.sequence, upToPosition: latest.upToPosition, digest: latest.digest }, 'Sealed a digest of the event log');
          }
        },
        (error: unknown) => logger?.error({ err: error }, 'Sealing a digest of the event log failed; retrying at the next interval'),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  if (sealAtStart) tick();
  return {
    stop: async () => {
      abort.abort();
      clearInterval(timer);
      await running;
    },
  };
};

export interface DigestFinding {
  /** The digest whose range or row is wrong (for a gap: the first missing sequence). */
  readonly sequence: number;
  readonly problem: 'events-changed' | 'events-removed' | 'events-inserted' | 'digest-altered' | 'digest-missing' | 'anchor-mismatch';
  /** The range concerned, (fromPosition, upToPosition]; fromPosition null from the start of the log. */
  readonly fromPosition: number | null;
  readonly upToPosition: number | null;
  readonly detail: string;
}

export interface DigestReport {
  /** Digest rows found. */
  readonly digests: number;
  /** The newest digest: the log up to its position is covered. */
  readonly latest: SealedDigest | undefined;
  /** Events found in sealed ranges. */
  readonly sealedEvents: number;
  /** Events after the newest digest: checked by the stream chains only, until the next seal. */
  readonly unsealedEvents: number;
  readonly findings: readonly DigestFinding[];
}

/** A digest recorded outside the database (from `audit -- seal`), to check the stored one against. */
export interface DigestAnchor {
  readonly sequence: number;
  readonly digest: string;
}

export interface VerifyDigestOptions {
  readonly pageSize?: number;
  readonly anchor?: DigestAnchor;
  /** Called after each page of events read, with the number read so far. */
  readonly onProgress?: (eventsRead: number) => void;
}

/** Reads the log's links in position order, a page at a time, handing them out range by range. */
class LinkCursor {
  private page: LinkRow[] = [];
  private index = 0;
  private after = MIN_POSITION;
  private exhausted = false;
  private read = 0;

  constructor(
    private readonly db: SqlQueryable,
    private readonly pageSize: number,
    private readonly onProgress?: (eventsRead: number) => void,
  ) {}

  /** Passes every remaining link with position <= upTo to `use`; returns how many. */
  async through(upTo: bigint, use: (link: Uint8Array) => void): Promise<number> {
    let count = 0;
    for (;;) {
      if (this.index >= this.page.length) {
        if (this.exhausted) return count;
        this.page = await this.db.query<LinkRow>(
          `select position::text as position, ${LINK_SQL} as link from tandem_events where position > $1::bigint order by tandem_events.position limit $2`,
          [this.after, this.pageSize],
        );
        this.index = 0;
        this.exhausted = this.page.length < this.pageSize;
        if (this.page.length === 0) return count;
        this.after = this.page[this.page.length - 1]!.position;
        this.read += this.page.length;
        this.onProgress?.(this.read);
      }
      const next = this.page[this.index]!;
      if (BigInt(next.position) > upTo) return count;
      use(next.link);
      count += 1;
      this.index += 1;
    }
  }
}

async function* digestRows(db: SqlQueryable, pageSize: number): AsyncGenerator<DigestRow> {
  for (let after = '0'; ; ) {
    const page = await db.query<DigestRow>(`select ${DIGEST_COLUMNS} from tandem_digests where sequence > $1::bigint order by tandem_digests.sequence limit $2`, [after, pageSize]);
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.sequence;
  }
}

const range = (from: bigint | null, upTo: bigint) => (from === null ? `positions up to ${upTo}` : `positions (${from}, ${upTo}]`);

interface Suspect {
  readonly row: DigestRow;
  readonly from: bigint | null;
  /** What the row's digest should be, from its predecessor and the events now in its range. */
  readonly recomputed: Buffer;
  readonly found: number;
}

/** A digest that does not match its range: which events went wrong, as far as the counts tell. */
const rangeFinding = ({ row, from, found }: Suspect, unconfirmed: boolean): DigestFinding => {
  const sealed = Number(row.event_count);
  const upTo = BigInt(row.up_to_position);
  const base = { sequence: Number(row.sequence), fromPosition: from === null ? null : Number(from), upToPosition: Number(upTo) };
  const where = `digest #${row.sequence} sealed ${sealed} events in ${range(from, upTo)}, ${found} are there now`;
  if (found < sealed) return { ...base, problem: 'events-removed', detail: `${sealed - found} event(s) removed: ${where}` };
  if (found > sealed) return { ...base, problem: 'events-inserted', detail: `${found - sealed} event(s) inserted: ${where}` };
  return {
    ...base,
    problem: 'events-changed',
    detail:
      `the ${found} events in ${range(from, upTo)} are not the ones digest #${row.sequence} sealed (changed, re-chained, moved or swapped)` +
      (unconfirmed ? `; or the digest row itself was altered: with no next digest to check against, the two cannot be told apart` : ''),
  };
};

/**
 * Recomputes every sealed digest from the events now in the log, a page at a time. Each digest is
 * checked against its stored predecessor, so one bad range is reported once; when a digest fails
 * but the next one matches what it should have been, the row itself was altered, not the events.
 */
export const verifyDigests = async (db: SqlQueryable, options: VerifyDigestOptions = {}): Promise<DigestReport> => {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const [table] = await db.query<{ present: boolean }>(`select to_regclass('tandem_digests') is not null as present`);
  if (!table?.present) {
    const [all] = await db.query<{ n: string }>('select count(*)::text as n from tandem_events');
    return { digests: 0, latest: undefined, sealedEvents: 0, unsealedEvents: Number(all!.n), findings: [] };
  }
  const findings: DigestFinding[] = [];
  const cursor = new LinkCursor(db, pageSize, options.onProgress);
  let previous: Buffer = Buffer.alloc(0);
  let from: bigint | null = null;
  let expected = 1n;
  let suspect: Suspect | undefined;
  let digests = 0;
  let sealedEvents = 0;
  let last: DigestRow | undefined;
  let anchorRow: DigestRow | undefined;

  for await (const row of digestRows(db, pageSize)) {
    digests += 1;
    const sequence = BigInt(row.sequence);
    const upTo = BigInt(row.up_to_position);
    const stored = Buffer.from(row.digest);
    if (options.anchor && Number(sequence) === options.anchor.sequence) anchorRow = row;

    const gap = sequence !== expected;
    if (gap) {
      findings.push({
        sequence: Number(expected),
        problem: 'digest-missing',
        fromPosition: from === null ? null : Number(from),
        upToPosition: Number(upTo),
        detail: `digest${sequence - expected > 1n ? `s #${expected}..#${sequence - 1n} are` : ` #${expected} is`} missing: digest #${sequence} cannot be checked without it, so ${range(from, upTo)} are covered by the stream chains only`,
      });
    }
    if (from !== null && upTo <= from) {
      findings.push({
        sequence: Number(sequence),
        problem: 'digest-altered',
        fromPosition: Number(from),
        upToPosition: Number(upTo),
        detail: `digest #${sequence} ends at position ${upTo}, not after the previous digest's end ${from}`,
      });
    }

    const fromStored = createHash('sha256').update(previous);
    // If the previous digest failed, also try the value it should have had: a match here means that row was altered.
    const fromRecomputed = suspect ? createHash('sha256').update(suspect.recomputed) : undefined;
    const found = await cursor.through(upTo, (link) => {
      fromStored.update(link);
      fromRecomputed?.update(link);
    });
    sealedEvents += found;
    const recomputed = fromStored.digest();

    let matches = recomputed.equals(stored);
    if (suspect) {
      if (!gap && fromRecomputed!.digest().equals(stored)) {
        const { row: altered } = suspect;
        findings.push({
          sequence: Number(altered.sequence),
          problem: 'digest-altered',
          fromPosition: suspect.from === null ? null : Number(suspect.from),
          upToPosition: Number(altered.up_to_position),
          detail: `digest #${altered.sequence} was altered: the events in its range and digest #${sequence} agree on ${suspect.recomputed.toString('hex')}, the row says ${Buffer.from(altered.digest).toString('hex')}`,
        });
        matches = true;
      } else {
        findings.push(rangeFinding(suspect, gap));
      }
      suspect = undefined;
    }
    if (!gap) {
      if (!matches) suspect = { row, from, recomputed, found };
      else if (found !== Number(row.event_count)) {
        findings.push({
          sequence: Number(sequence),
          problem: 'digest-altered',
          fromPosition: from === null ? null : Number(from),
          upToPosition: Number(upTo),
          detail: `digest #${sequence} says ${row.event_count} events but its range holds ${found} and its digest matches them: the row's event count was altered`,
        });
      }
    }
    previous = stored;
    if (from === null || upTo > from) from = upTo;
    expected = sequence + 1n;
    last = row;
  }
  if (suspect) findings.push(rangeFinding(suspect, true));

  const anchor = options.anchor;
  if (anchor) {
    const storedHex = anchorRow ? Buffer.from(anchorRow.digest).toString('hex') : undefined;
    if (storedHex !== anchor.digest.toLowerCase()) {
      findings.push({
        sequence: anchor.sequence,
        problem: 'anchor-mismatch',
        fromPosition: null,
        upToPosition: anchorRow ? Number(anchorRow.up_to_position) : null,
        detail: anchorRow
          ? `digest #${anchor.sequence} is ${storedHex} in the database but ${anchor.digest.toLowerCase()} was recorded outside it: the log up to it was rewritten`
          : `digest #${anchor.sequence}, recorded outside the database as ${anchor.digest.toLowerCase()}, is not in the database`,
      });
    }
  }

  const [tail] = await db.query<{ n: string }>('select count(*)::text as n from tandem_events where position > $1::bigint', [from === null ? MIN_POSITION : from.toString()]);
  return { digests, latest: last ? toDigest(last) : undefined, sealedEvents, unsealedEvents: Number(tail!.n), findings };
};
