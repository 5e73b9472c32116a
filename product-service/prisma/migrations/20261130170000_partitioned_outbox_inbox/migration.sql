-- Partitioned outbox and inbox (decision 36; platform/sql/outbox-inbox.sql has the end state and
-- says why). The tables so far become one partition of history each, rows and positions kept; new
-- rows go to daily partitions, which the service creates ahead and drops past retention. Runs in
-- one transaction: the copy holds the tables for as long as it takes (see the runbook).

ALTER TABLE outbox_events RENAME TO outbox_events_unpartitioned;
ALTER TABLE outbox_events_unpartitioned RENAME CONSTRAINT outbox_events_pkey TO outbox_events_unpartitioned_pkey;
DROP INDEX outbox_events_unpublished_idx;
DROP INDEX outbox_events_unpublished_aggregate_idx;
DROP INDEX outbox_events_published_at_idx;
DROP TRIGGER outbox_events_notify ON outbox_events_unpartitioned;
-- Frees the identity's sequence name for the new table; the new one continues from the last position.
ALTER TABLE outbox_events_unpartitioned ALTER COLUMN position DROP IDENTITY;
ALTER TABLE processed_messages RENAME TO processed_messages_unpartitioned;
ALTER TABLE processed_messages_unpartitioned RENAME CONSTRAINT processed_messages_pkey TO processed_messages_unpartitioned_pkey;
DROP INDEX processed_messages_stream_idx;
DROP INDEX processed_messages_unplaced_idx;

-- Creates the daily partitions of `parent` (range-partitioned on a timestamptz; UTC days named
-- <parent>_pYYYYMMDD) from first_day to last_day, skipping days that exist; returns how many it
-- created. Each is created apart and then attached: ATTACH takes a lock that lets the parent's
-- readers and writers carry on (CREATE TABLE … PARTITION OF would wait for them and stop them).
CREATE FUNCTION shop_create_daily_partitions(parent text, first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  day date;
  partition text;
  created integer := 0;
BEGIN
  FOR day IN SELECT generate_series(first_day, last_day, interval '1 day')::date LOOP
    partition := parent || '_p' || to_char(day, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(quote_ident(partition)) IS NOT NULL;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS)', partition, parent);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', parent, partition,
                   day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    created := created + 1;
  END LOOP;
  RETURN created;
END;
$$;

CREATE TABLE outbox_events (
  id             uuid           NOT NULL,
  position       bigint         GENERATED ALWAYS AS IDENTITY,
  aggregate_type varchar(100)   NOT NULL,
  aggregate_id   varchar(100)   NOT NULL,
  sequence       integer        NOT NULL,
  type           varchar(100)   NOT NULL,
  exchange       varchar(100)   NOT NULL,
  routing_key    varchar(200)   NOT NULL,
  payload        jsonb          NOT NULL,
  headers        jsonb          NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz(6) NOT NULL DEFAULT now(),
  published_at   timestamptz(6),
  attempts       integer        NOT NULL DEFAULT 0,
  last_error     text,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
-- The relay's claim only ever looks at the unpublished tail, in position order: in a partition
-- whose rows are all published this index is empty, so the claim reads no row of history.
CREATE INDEX outbox_events_unpublished_idx ON outbox_events (position) WHERE published_at IS NULL;
-- For each row it claims, whether an earlier row of the same aggregate is still unpublished (per-
-- aggregate order with several relays).
CREATE INDEX outbox_events_unpublished_aggregate_idx ON outbox_events (aggregate_type, aggregate_id, position) WHERE published_at IS NULL;

CREATE TRIGGER outbox_events_notify
  AFTER INSERT ON outbox_events
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify();

CREATE TABLE processed_messages (
  consumer     varchar(200)   NOT NULL,
  event_id     uuid           NOT NULL,
  processed_at timestamptz(6) NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id, processed_at)
) PARTITION BY RANGE (processed_at);

-- Whether `consumer_name` took in event `event` (while the inbox's log still holds it). PL/pgSQL, so
-- its plan over every partition is made once per connection instead of with each claim that
-- mentions it; the claim calls it only when it must look (platform's inbox.ts). A cause is nearly
-- always a moment older than its effect: the last day's partitions are looked at first, and the
-- others only when it is not there (decision 36: 3 times faster over ten days of history).
CREATE FUNCTION shop_inbox_has(consumer_name varchar, event uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM processed_messages
                  WHERE consumer = consumer_name AND event_id = event AND processed_at >= now() - interval '1 day')
      OR EXISTS (SELECT 1 FROM processed_messages WHERE consumer = consumer_name AND event_id = event);
END;
$$;

CREATE TABLE inbox_streams (
  consumer varchar(200) NOT NULL,
  source   varchar(200) NOT NULL,
  subject  varchar(200) NOT NULL,
  -- The last event of the stream applied here, and the first this consumer knew of (1, unless the
  -- stream began before the inbox recorded places: decision 33's upgrade).
  sequence integer      NOT NULL,
  since    integer      NOT NULL,
  PRIMARY KEY (consumer, source, subject)
);
-- Consumers whose inbox held events claimed before places were recorded (decision 33; filled when
-- such a database is converted). For a stream it has no place for, such a consumer cannot tell a
-- late first event from a stream that began back then, so it takes the stream up where it finds it.
CREATE TABLE inbox_unordered_history (
  consumer varchar(200) PRIMARY KEY
);

-- A consumer's claim of an event (platform's inbox.ts, SPEC §6): applies it only as the next of its
-- stream here, and once its cause (when given) is in the log; says whether it claimed it, whether it
-- was in order and whether it was already applied. The next event advances the stream's place; one at
-- or below it is a duplicate, however old; one further ahead is early. A stream's first event creates
-- its row. A consumer listed in inbox_unordered_history takes up a stream it has no place for where
-- it finds it, and tells a duplicate of an event before that place by the log. Two deliveries of one
-- event at once: the second waits on the first's stream row, then finds nothing to advance (FOUND is
-- false). PL/pgSQL so that each statement's plan is made once per connection (decision 36).
CREATE FUNCTION shop_inbox_claim(consumer_name varchar, event uuid, stream_source varchar, stream_subject varchar,
                                 seq integer, opens boolean, cause uuid,
                                 OUT claimed boolean, OUT in_order boolean, OUT seen boolean)
LANGUAGE plpgsql AS $$
DECLARE
  head integer;
  first integer;
BEGIN
  SELECT s.sequence, s.since INTO head, first
    FROM inbox_streams s
   WHERE s.consumer = consumer_name AND s.source = stream_source AND s.subject = stream_subject;
  IF head IS NOT NULL AND seq >= first THEN
    seen := seq <= head;
    in_order := seq = head + 1;
  ELSIF head IS NULL AND NOT EXISTS (SELECT 1 FROM inbox_unordered_history u WHERE u.consumer = consumer_name) THEN
    seen := false;
    in_order := opens;
  ELSE
    seen := shop_inbox_has(consumer_name, event);
    in_order := true;
  END IF;
  IF in_order AND cause IS NOT NULL THEN
    in_order := shop_inbox_has(consumer_name, cause);
  END IF;
  claimed := false;
  IF in_order AND NOT seen THEN
    IF head IS NULL THEN
      INSERT INTO inbox_streams (consumer, source, subject, sequence, since)
      VALUES (consumer_name, stream_source, stream_subject, seq, seq) ON CONFLICT DO NOTHING;
      claimed := FOUND;
    ELSIF seq >= first THEN
      UPDATE inbox_streams s SET sequence = seq
       WHERE s.consumer = consumer_name AND s.source = stream_source AND s.subject = stream_subject
         AND s.sequence = seq - 1;
      claimed := FOUND;
    ELSE
      claimed := true;
    END IF;
    IF claimed THEN
      INSERT INTO processed_messages (consumer, event_id) VALUES (consumer_name, event);
    END IF;
  END IF;
END;
$$;

-- Rows from before today go to one partition of history (dropped whole once past retention).
DO $$
DECLARE today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
  IF EXISTS (SELECT 1 FROM outbox_events_unpartitioned WHERE created_at < today::timestamp AT TIME ZONE 'UTC') THEN
    CREATE TABLE outbox_events_history (LIKE outbox_events INCLUDING DEFAULTS);
    EXECUTE format('ALTER TABLE outbox_events ATTACH PARTITION outbox_events_history FOR VALUES FROM (MINVALUE) TO (%L)',
                   today::timestamp AT TIME ZONE 'UTC');
  END IF;
  PERFORM shop_create_daily_partitions('outbox_events', today,
    greatest(today + 3, (SELECT max(created_at AT TIME ZONE 'UTC')::date FROM outbox_events_unpartitioned)));
  IF EXISTS (SELECT 1 FROM processed_messages_unpartitioned WHERE processed_at < today::timestamp AT TIME ZONE 'UTC') THEN
    CREATE TABLE processed_messages_history (LIKE processed_messages INCLUDING DEFAULTS);
    EXECUTE format('ALTER TABLE processed_messages ATTACH PARTITION processed_messages_history FOR VALUES FROM (MINVALUE) TO (%L)',
                   today::timestamp AT TIME ZONE 'UTC');
  END IF;
  PERFORM shop_create_daily_partitions('processed_messages', today,
    greatest(today + 3, (SELECT max(processed_at AT TIME ZONE 'UTC')::date FROM processed_messages_unpartitioned)));
END;
$$;
-- (The statements of a new database; the block above created these days already.)
SELECT shop_create_daily_partitions('outbox_events', (now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 3);
SELECT shop_create_daily_partitions('processed_messages', (now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 3);

INSERT INTO outbox_events (id, position, aggregate_type, aggregate_id, sequence, type, exchange, routing_key,
                           payload, headers, created_at, published_at, attempts, last_error)
  OVERRIDING SYSTEM VALUE
  SELECT id, position, aggregate_type, aggregate_id, sequence, type, exchange, routing_key,
         payload, headers, created_at, published_at, attempts, last_error
    FROM outbox_events_unpartitioned;
SELECT setval(pg_get_serial_sequence('outbox_events', 'position'), coalesce(max(position), 0) + 1, false) FROM outbox_events;
DROP TABLE outbox_events_unpartitioned;

INSERT INTO processed_messages (consumer, event_id, processed_at)
  SELECT consumer, event_id, processed_at FROM processed_messages_unpartitioned;
-- Each stream's place so far: gated claims (decision 33) took its events one after another from the first placed.
INSERT INTO inbox_streams (consumer, source, subject, sequence, since)
  SELECT consumer, source, subject, max(sequence), min(sequence)
    FROM processed_messages_unpartitioned WHERE sequence IS NOT NULL
   GROUP BY consumer, source, subject;
INSERT INTO inbox_unordered_history (consumer)
  SELECT DISTINCT consumer FROM processed_messages_unpartitioned WHERE sequence IS NULL;
DROP TABLE processed_messages_unpartitioned;
