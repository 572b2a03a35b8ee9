import { AppendSignal } from '../append-signal';
import { DEFAULT_PAGE_SIZE, type EventStoreBackend, type StorableEvent } from '../backend';
import type { AppendResult, ExpectedRevision, ReadAllOptions, ReadStreamOptions, RecordedEvent, StoreMode, SubscribeOptions } from '../contract';
import { IdempotencyConflict, WrongExpectedRevision } from '../errors';
import { pollingSubscription } from '../polling-subscription';
import type { SqlDriver } from './driver';
import { EVENT_COLUMNS, schemaSql } from './schema';

interface EventRow {
  position: string | number | bigint;
  event_id: string;
  stream_name: string;
  stream_revision: string | number | bigint;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: Record<string, unknown>;
  recorded_at: Date | string;
}

const toEvent = (row: EventRow): RecordedEvent => ({
  id: row.event_id,
  stream: row.stream_name,
  revision: Number(row.stream_revision),
  position: Number(row.position),
  type: row.type,
  schemaVersion: row.schema_version,
  data: row.data,
  metadata: { ...row.metadata, recordedAt: new Date(row.recorded_at).toISOString() } as RecordedEvent['metadata'],
});

const WRONG_REVISION = /tandem:wrong_expected_revision:(-?\d+)/;

export interface SqlBackendOptions {
  readonly mode: StoreMode;
  readonly pollIntervalMs?: number;
  /**
   * Stamps recordedAt from this clock instead of the database's: only for a test clock that moves
   * on (TANDEM_TEST_CLOCK, tests), so that what is decided by that clock's now is recorded by it too
   * and no entry reads as recorded before it happened. Left out everywhere else.
   */
  readonly clock?: () => Date;
}

/** The PGlite and PostgreSQL back ends: the same SQL over different drivers. */
export const sqlBackend = async (driver: SqlDriver, options: SqlBackendOptions): Promise<EventStoreBackend> => {
  await driver.migrate(schemaSql);
  const appended = new AppendSignal();
  const pollIntervalMs = options.pollIntervalMs ?? 100;

  const readAll = async ({ fromPosition = 0, maxCount = DEFAULT_PAGE_SIZE }: ReadAllOptions = {}) =>
    (
      await driver.query<EventRow>(
        // The page is taken by the primary key first and bounded after: filtering on the bound
        // inside made PostgreSQL scan and sort the rest of the log on a table without statistics.
        `select * from (
           select ${EVENT_COLUMNS} from tandem_events where position >= $1 order by position limit $2
         ) page where position < tandem_visible_bound() order by position`,
        [fromPosition, maxCount],
      )
    ).map(toEvent);

  /**
   * The live subscriptions of a process (projections, reactions, the policy's facts, the live
   * stream, FHIR Subscriptions) are woken by the same append and ask for the same page: one query
   * answers all of them, not one each, on the one thread PGlite shares with the requests. A
   * subscriber joins a read only if this process has appended nothing since it began, so no one is
   * answered with a page older than an append it was woken for.
   */
  const pagesUnderWay = new Map<string, { readonly appends: number; readonly page: Promise<RecordedEvent[]> }>();
  let appends = 0;
  const sharedPage = (fromPosition: number, maxCount: number): Promise<RecordedEvent[]> => {
    const key = `${fromPosition}:${maxCount}`;
    const under = pagesUnderWay.get(key);
    if (under && under.appends === appends) return under.page;
    const page = readAll({ fromPosition, maxCount });
    const entry = { appends, page };
    pagesUnderWay.set(key, entry);
    const done = () => {
      if (pagesUnderWay.get(key) === entry) pagesUnderWay.delete(key);
    };
    page.then(done, done);
    return page;
  };

  return {
    mode: options.mode,

    async append(stream: string, events: readonly StorableEvent[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
      try {
        const [row] = await driver.query<{ next_revision: string; last_position: string }>(
          'select next_revision, last_position from tandem_append($1, $2, $3::jsonb, $4::timestamptz)',
          [stream, String(expectedRevision), JSON.stringify(events), options.clock ? options.clock().toISOString() : null],
        );
        if (!row) throw new Error('tandem_append returned no row');
        appends += 1;
        appended.notify();
        return { nextRevision: Number(row.next_revision), position: Number(row.last_position) };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const wrong = WRONG_REVISION.exec(message);
        if (wrong) {
          const actual = Number(wrong[1]);
          throw new WrongExpectedRevision(stream, expectedRevision, actual < 0 ? 'no_stream' : actual);
        }
        if (message.includes('tandem:idempotency_conflict')) throw new IdempotencyConflict(stream, events.map((e) => e.id));
        throw error;
      }
    },

    async readStream(stream: string, { fromRevision, direction = 'forwards', maxCount = Number.MAX_SAFE_INTEGER }: ReadStreamOptions = {}) {
      const forwards = direction === 'forwards';
      const from = fromRevision ?? (forwards ? 0 : Number.MAX_SAFE_INTEGER);
      const rows = await driver.query<EventRow>(
        `select ${EVENT_COLUMNS} from tandem_events
          where stream_name = $1 and stream_revision ${forwards ? '>=' : '<='} $2
          order by stream_revision ${forwards ? 'asc' : 'desc'} limit $3`,
        [stream, from, maxCount],
        // Every read of a person's record and every command reads a stream's tail: prepared once per connection.
        { name: forwards ? 'tandem_read_stream_forwards' : 'tandem_read_stream_backwards' },
      );
      return rows.map(toEvent);
    },

    readAll,

    subscribeToAll: (subscribeOptions: SubscribeOptions = {}) =>
      pollingSubscription(
        (fromPosition, maxCount) => sharedPage(fromPosition, maxCount),
        appended,
        { ...subscribeOptions, pageSize: DEFAULT_PAGE_SIZE, pollIntervalMs },
      ),

    async headPosition() {
      const [row] = await driver.query<{ head: string | null }>(
        'select max(position) as head from tandem_events where position < tandem_visible_bound()',
      );
      return row?.head == null ? 0 : Number(row.head);
    },

    close: () => driver.close(),
  };
};
