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
