import { verifyDigests, type DigestReport, type VerifyDigestOptions } from './digest';
import type { SqlQueryable } from './driver';

export interface TamperFinding {
  readonly stream: string;
  readonly revision: number;
  readonly problem: 'changed' | 'missing-before' | 'missing-at-end' | 'unchained';
  readonly detail: string;
}

export interface VerifyReport {
  readonly events: number;
  readonly streams: number;
  /** Per-stream hash chain findings. */
  readonly findings: readonly TamperFinding[];
  /** The global digests recomputed over the log: what the chains cannot see (docs/decisions/0010). */
  readonly digests: DigestReport;
}

export type VerifyOptions = VerifyDigestOptions;

/**
 * Walks every stream's hash chain in the SQL store. A changed row no longer matches its hash; a
 * removed row leaves a gap in revisions (and breaks the next link); a row inserted or removed at
 * a stream's end disagrees with the stream's recorded revision and last hash.
 *
 * Then recomputes every sealed global digest, a page of events at a time (`verifyDigests`): that
 * catches a stream's last events or a whole stream removed with the stream rows set back to match,
 * events inserted into a sealed range, a chain recomputed after an edit, and digest rows altered or
 * removed. Events after the newest digest are checked by the chains only.
 */
export const verifyEventLog = async (db: SqlQueryable, options: VerifyOptions = {}): Promise<VerifyReport> => {
  const [counts] = await db.query<{ events: string; streams: string }>(
    'select (select count(*) from tandem_events) as events, (select count(*) from tandem_streams) as streams',
  );
  const rows = await db.query<{ stream_name: string; stream_revision: string; problem: TamperFinding['problem']; detail: string }>(`
    with chain as (
      select stream_name, stream_revision, hash,
             lag(stream_revision) over w as prev_revision,
             tandem_event_hash(lag(hash) over w, event_id, stream_name, stream_revision, type, schema_version, data, metadata, recorded_at) as expected
        from tandem_events
      window w as (partition by stream_name order by stream_revision)
    )
    select stream_name, stream_revision, 'unchained' as problem, 'written without a hash' as detail from chain where hash is null
    union all
    select stream_name, stream_revision, 'changed', 'content does not match its hash' from chain where hash is not null and hash <> expected
    union all
    select stream_name, stream_revision, 'missing-before', 'revision ' || coalesce(prev_revision + 1, 0) || ' to ' || (stream_revision - 1) || ' missing'
      from chain where stream_revision <> coalesce(prev_revision + 1, 0)
    union all
    select s.stream_name, s.revision, 'missing-at-end', 'stream ends at revision ' || coalesce(max(e.stream_revision), -1) || ' but recorded ' || s.revision
      from tandem_streams s left join tandem_events e on e.stream_name = s.stream_name
     group by s.stream_name, s.revision, s.last_hash
    having coalesce(max(e.stream_revision), -1) <> s.revision
        or s.last_hash is distinct from (select hash from tandem_events x where x.stream_name = s.stream_name order by stream_revision desc limit 1)
    order by 1, 2`);
  const digests = await verifyDigests(db, options);
  return {
    events: Number(counts!.events),
    streams: Number(counts!.streams),
    findings: rows.map((r) => ({ stream: r.stream_name, revision: Number(r.stream_revision), problem: r.problem, detail: r.detail })),
    digests,
  };
};
