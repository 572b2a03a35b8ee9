/**
 * The schema shared by the PGlite and PostgreSQL back ends.
 *
 * Global order and the commit-order gap (DESIGN.md): a sequence is handed out at insert, but
 * transactions commit out of order, so a reader could see position 11, move its checkpoint past
 * it, and never see 10 when 10's transaction commits later. Here a position is derived from the
 * appending transaction's id: `xid8 * 65536 + index in the append`. Readers only read positions
 * below `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still in flight; no
 * transaction can ever again write below that bound, so what a reader has passed is final.
 * The cost: one long-running append holds back every reader until it ends.
 */
export const POSITION_SHIFT = 65536;

export const schemaSql = `
create table if not exists tandem_streams (
  stream_name text primary key,
  revision bigint not null
);
-- Tamper evidence: each event's hash covers its content and the previous event's hash in its stream.
alter table tandem_streams add column if not exists last_hash bytea;

create table if not exists tandem_events (
  position bigint primary key,
  event_id uuid not null,
  stream_name text not null,
  stream_revision bigint not null,
  type text not null,
  schema_version int not null,
  data jsonb not null,
  metadata jsonb not null,
  recorded_at timestamptz not null default now(),
  unique (stream_name, stream_revision),
  unique (stream_name, event_id)
);
alter table tandem_events add column if not exists hash bytea;

-- Readers may only read below this bound: every transaction that could still write is at or above it.
create or replace function tandem_visible_bound() returns bigint language sql stable as $$
  select pg_snapshot_xmin(pg_current_snapshot())::text::bigint * ${POSITION_SHIFT}
$$;

-- The link in a stream's hash chain: the previous event's hash, then everything the event says.
-- jsonb's text form is canonical, so verification can recompute it from the stored row.
create or replace function tandem_event_hash(p_prev bytea, p_id uuid, p_stream text, p_revision bigint, p_type text,
                                             p_version int, p_data jsonb, p_metadata jsonb, p_recorded_at timestamptz)
returns bytea language sql immutable as $$
  select sha256(coalesce(p_prev, ''::bytea) || convert_to(concat_ws('|', p_id::text, p_stream, p_revision::text, p_type,
    p_version::text, p_data::text, p_metadata::text, ((extract(epoch from p_recorded_at) * 1000000)::bigint)::text), 'UTF8'))
$$;

-- The periodic digest over the global log (docs/decisions/0010-global-digest.md). Digest n covers the
-- events with position in (up_to_position of n-1, up_to_position of n] and is
-- sha256(digest n-1 || for each of those events in position order: int8send(position) || hash).
-- It catches what the stream chains cannot: a stream's last events, or a whole stream, removed, and a
-- stream's chain rewritten consistently. Written only by sealDigest (src/sql/digest.ts).
create table if not exists tandem_digests (
  sequence bigint primary key check (sequence >= 1),
  up_to_position bigint not null unique,
  event_count bigint not null,
  digest bytea not null,
  sealed_at timestamptz not null default now()
);

-- One round trip per append: lock the stream row, check idempotency and the expected revision,
-- insert the batch. Any exception rolls the whole append back, so a batch is all or nothing.
-- p_recorded_at: the time to record, only from a store opened with a test clock (TANDEM_TEST_CLOCK), so
-- an entry is never recorded before the (moved-on) time it happened; otherwise the database's now().
drop function if exists tandem_append(text, text, jsonb);
create or replace function tandem_append(p_stream text, p_expected text, p_events jsonb, p_recorded_at timestamptz default null)
returns table (next_revision bigint, last_position bigint, duplicate boolean)
language plpgsql as $$
declare
  v_current bigint;
  v_count int := jsonb_array_length(p_events);
  v_found int;
  v_min_rev bigint;
  v_max_rev bigint;
  v_max_pos bigint;
  v_base bigint;
  v_hash bytea;
  v_now timestamptz := coalesce(p_recorded_at, now());
  v_ev jsonb;
  v_i bigint;
begin
  -- Upserting the stream row locks it (and assigns this transaction its xid before any position is derived).
  insert into tandem_streams as s (stream_name, revision) values (p_stream, -1)
    on conflict (stream_name) do update set revision = s.revision
    returning s.revision, s.last_hash into v_current, v_hash;

  if v_current >= 0 then
    select count(*), min(stream_revision), max(stream_revision), max(position)
      into v_found, v_min_rev, v_max_rev, v_max_pos
      from tandem_events
     where stream_name = p_stream
       -- An array (not a subquery join) so the planner uses the (stream_name, event_id) index and the
       -- check stays as cheap for a long record as for a new one.
       and event_id = any(array(select (e->>'id')::uuid from jsonb_array_elements(p_events) e));
    if v_found > 0 then
      if v_found = v_count and v_max_rev - v_min_rev = v_count - 1 then
        return query select v_max_rev, v_max_pos, true;
        return;
      end if;
      raise exception 'tandem:idempotency_conflict';
    end if;
  end if;

  if (p_expected = 'no_stream' and v_current <> -1)
     or (p_expected = 'exists' and v_current = -1)
     or (p_expected ~ '^[0-9]+$' and v_current <> p_expected::bigint) then
    raise exception 'tandem:wrong_expected_revision:%', v_current;
  end if;

  v_base := pg_current_xact_id()::text::bigint * ${POSITION_SHIFT};
  for v_ev, v_i in select e.ev, e.i from jsonb_array_elements(p_events) with ordinality as e(ev, i) loop
    v_hash := tandem_event_hash(v_hash, (v_ev->>'id')::uuid, p_stream, v_current + v_i, v_ev->>'type',
                                (v_ev->>'schemaVersion')::int, v_ev->'data', v_ev->'metadata', v_now);
    insert into tandem_events (position, event_id, stream_name, stream_revision, type, schema_version, data, metadata, recorded_at, hash)
    values (v_base + v_i - 1, (v_ev->>'id')::uuid, p_stream, v_current + v_i, v_ev->>'type',
            (v_ev->>'schemaVersion')::int, v_ev->'data', v_ev->'metadata', v_now, v_hash);
  end loop;

  update tandem_streams set revision = v_current + v_count, last_hash = v_hash where stream_name = p_stream;
  return query select v_current + v_count, v_base + v_count - 1, false;
end
$$;
`;

export const EVENT_COLUMNS = 'position, event_id, stream_name, stream_revision, type, schema_version, data, metadata, recorded_at';
