-- Transactional outbox + consumer inbox (SPEC §6), as a new database ends up after every migration.
-- The services' migrations create the same objects (the first ones created these tables
-- unpartitioned; 20261130170000_partitioned_outbox_inbox converts them, rows kept); a test keeps
-- each statement here present in their migrations. @shop/platform's relay, consumer and partition
-- maintenance read and write exactly these.
--
-- outbox_events: a service inserts its events here in the same transaction as the state change
-- (appendToOutbox), so the change and its events commit together or not at all. The relay claims
-- unpublished rows in `position` order with FOR UPDATE SKIP LOCKED, publishes them with broker
-- confirms and only then sets published_at.
-- processed_messages: the inbox's log, one row per event a consumer took in, in the transaction of
-- its effect; looked up by event id when a later event waits for its cause.
-- inbox_streams: how far each consumer has applied each stream (one aggregate's events from one
-- service, SPEC §6 "Ordering"): an event is applied when it is the next of its stream, and one at or
-- below that point is a duplicate — however long ago, so deduplication never depends on retention.
--
-- Both big tables are range-partitioned by day (UTC): outbox_events on created_at, processed_messages
-- on processed_at. Each service creates its partitions ahead and drops whole partitions past
-- OUTBOX_RETENTION / INBOX_RETENTION (platform's partitions.ts; an outbox partition that still holds
-- an unpublished row is kept): no DELETE, no dead rows, whatever the history (decision 36).
--
-- Prisma models matching this DDL (paste into schema.prisma; migrations stay this SQL, because
-- Prisma cannot express partitioning, GENERATED ALWAYS AS IDENTITY, the partial indexes or the trigger):
--
-- model OutboxEvent {
--   id            String    @db.Uuid
--   position      BigInt    @default(autoincrement())
--   aggregateType String    @map("aggregate_type") @db.VarChar(100)
--   aggregateId   String    @map("aggregate_id") @db.VarChar(100)
--   sequence      Int
--   type          String    @db.VarChar(100)
--   exchange      String    @db.VarChar(100)
--   routingKey    String    @map("routing_key") @db.VarChar(200)
--   payload       Json
--   headers       Json      @default("{}")
--   createdAt     DateTime  @default(now()) @map("created_at") @db.Timestamptz(6)
--   publishedAt   DateTime? @map("published_at") @db.Timestamptz(6)
--   attempts      Int       @default(0)
--   lastError     String?   @map("last_error")
--
--   @@id([id, createdAt])
--   @@map("outbox_events")
-- }
--
-- model ProcessedMessage {
--   consumer    String   @db.VarChar(200)
--   eventId     String   @map("event_id") @db.Uuid
--   processedAt DateTime @default(now()) @map("processed_at") @db.Timestamptz(6)
--
--   @@id([consumer, eventId, processedAt])
--   @@map("processed_messages")
-- }
--
-- model InboxStream {
--   consumer String @db.VarChar(200)
--   source   String @db.VarChar(200)
--   subject  String @db.VarChar(200)
--   sequence Int
--   since    Int
--
--   @@id([consumer, source, subject])
--   @@map("inbox_streams")
-- }

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
-- whose rows are all published this index is empty, so the claim reads no row of history. Its
-- check that no earlier row of a claimed row's aggregate is still unpublished (per-aggregate order
-- with several relays) walks the same index up to the claim's last position.
CREATE INDEX outbox_events_unpublished_idx ON outbox_events (position) WHERE published_at IS NULL;

-- One notification per inserting statement (not per row) wakes every listening relay; the
-- relay's polling covers a missed notification.
CREATE FUNCTION outbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_events', '');
  RETURN NULL;
END;
$$;

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

-- Today and the next three days, so a new database takes rows at once; the services create the
-- rest ahead as they run.
SELECT shop_create_daily_partitions('outbox_events', (now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 3);
SELECT shop_create_daily_partitions('processed_messages', (now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date + 3);

-- scheduled_events: outbox rows with a delivery time (SPEC §6 "Scheduled events"). A service writes
-- one in the transaction of the change that schedules it (scheduleWrite); when it is due the relay
-- moves it into outbox_events in one statement (the relay's releaseDueOnce), and from there it is published
-- like any other row. Kept apart so that rows not yet due never sit in the unpublished tail the
-- relay's claim walks, nor hold back later rows of their aggregate. (In a later migration of the
-- services that have an outbox.)
CREATE TABLE scheduled_events (
  id             uuid           PRIMARY KEY,
  deliver_at     timestamptz(6) NOT NULL,
  aggregate_type varchar(100)   NOT NULL,
  aggregate_id   varchar(100)   NOT NULL,
  sequence       integer        NOT NULL,
  type           varchar(100)   NOT NULL,
  exchange       varchar(100)   NOT NULL,
  routing_key    varchar(200)   NOT NULL,
  payload        jsonb          NOT NULL,
  headers        jsonb          NOT NULL DEFAULT '{}',
  created_at     timestamptz(6) NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_events_deliver_at_idx ON scheduled_events (deliver_at);
