-- Transactional outbox + consumer inbox (SPEC §6). Every service's first migration copies this
-- file verbatim; @shop/platform's relay and consumer read and write exactly these columns.
--
-- outbox_events: a service inserts its events here in the same transaction as the state change
-- (appendToOutbox), so the change and its events commit together or not at all. The relay claims
-- unpublished rows in `position` order with FOR UPDATE SKIP LOCKED, publishes them with broker
-- confirms and only then sets published_at; rows are deleted after a retention period.
-- processed_messages: a consumer inserts (consumer, event_id) in the same transaction as its
-- effect (claimInbox); the primary key turns a redelivery into a no-op.
--
-- Prisma models matching this DDL (paste into schema.prisma; migrations stay this SQL, because
-- Prisma cannot express GENERATED ALWAYS AS IDENTITY, the partial index or the trigger):
--
-- model OutboxEvent {
--   id            String    @id @db.Uuid
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
--   @@index([publishedAt], map: "outbox_events_published_at_idx")
--   @@map("outbox_events")
-- }
--
-- model ProcessedMessage {
--   consumer    String   @db.VarChar(200)
--   eventId     String   @map("event_id") @db.Uuid
--   processedAt DateTime @default(now()) @map("processed_at") @db.Timestamptz(6)
--   source      String?  @db.VarChar(200)
--   subject     String?  @db.VarChar(200)
--   sequence    Int?
--
--   @@id([consumer, eventId])
--   @@map("processed_messages")
-- }

CREATE TABLE outbox_events (
  id             uuid         PRIMARY KEY,
  position       bigint       GENERATED ALWAYS AS IDENTITY,
  aggregate_type varchar(100) NOT NULL,
  aggregate_id   varchar(100) NOT NULL,
  sequence       integer      NOT NULL,
  type           varchar(100) NOT NULL,
  exchange       varchar(100) NOT NULL,
  routing_key    varchar(200) NOT NULL,
  payload        jsonb        NOT NULL,
  headers        jsonb        NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz(6) NOT NULL DEFAULT now(),
  published_at   timestamptz(6),
  attempts       integer      NOT NULL DEFAULT 0,
  last_error     text
);

-- The relay's claim query only ever looks at the unpublished tail, in position order.
CREATE INDEX outbox_events_unpublished_idx ON outbox_events (position) WHERE published_at IS NULL;
-- For each row it claims, whether an earlier row of the same aggregate is still unpublished (per-
-- aggregate order with several relays; in a later migration of the services that have an outbox).
CREATE INDEX outbox_events_unpublished_aggregate_idx ON outbox_events (aggregate_type, aggregate_id, position) WHERE published_at IS NULL;
-- Retention deletes by age of publication.
CREATE INDEX outbox_events_published_at_idx ON outbox_events (published_at);

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
  PRIMARY KEY (consumer, event_id)
);
-- Each event's place in its order's history (source, subject, sequence; SPEC §6 "Ordering"), so a
-- consumer can ask whether the event before it took effect here (platform's inbox.ts; in a later
-- migration of every service). Rows claimed before it have none.
ALTER TABLE processed_messages ADD COLUMN source varchar(200), ADD COLUMN subject varchar(200), ADD COLUMN sequence integer;
CREATE INDEX processed_messages_stream_idx ON processed_messages (consumer, source, subject, sequence) WHERE sequence IS NOT NULL;
CREATE INDEX processed_messages_unplaced_idx ON processed_messages (consumer) WHERE sequence IS NULL;

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
