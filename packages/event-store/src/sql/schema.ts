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

-- Readers may only read below this bound: every transaction that could still write is at or above it.
create or replace function tandem_visible_bound() returns bigint language sql stable as $$
  select pg_snapshot_xmin(pg_current_snapshot())::text::bigint * ${POSITION_SHIFT}
$$;

-- One round trip per append: lock the stream row, check idempotency and the expected revision,
-- insert the batch. Any exception rolls the whole append back, so a batch is all or nothing.
create or replace function tandem_append(p_stream text, p_expected text, p_events jsonb)
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
begin
  -- Upserting the stream row locks it (and assigns this transaction its xid before any position is derived).
  insert into tandem_streams as s (stream_name, revision) values (p_stream, -1)
    on conflict (stream_name) do update set revision = s.revision
    returning s.revision into v_current;

  if v_current >= 0 then
    select count(*), min(stream_revision), max(stream_revision), max(position)
      into v_found, v_min_rev, v_max_rev, v_max_pos
      from tandem_events
     where stream_name = p_stream
       and event_id in (select (e->>'id')::uuid from jsonb_array_elements(p_events) e);
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
  insert into tandem_events (position, event_id, stream_name, stream_revision, type, schema_version, data, metadata)
  select v_base + e.i - 1, (e.ev->>'id')::uuid, p_stream, v_current + e.i, e.ev->>'type',
         (e.ev->>'schemaVersion')::int, e.ev->'data', e.ev->'metadata'
    from jsonb_array_elements(p_events) with ordinality as e(ev, i);

  update tandem_streams set revision = v_current + v_count where stream_name = p_stream;
  return query select v_current + v_count, v_base + v_count - 1, false;
end
$$;
`;

export const EVENT_COLUMNS = 'position, event_id, stream_name, stream_revision, type, schema_version, data, metadata, recorded_at';
