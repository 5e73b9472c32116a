-- Notification service, initial schema: the notifications it records (one per event id) and the
-- consumer inbox. The service publishes no events, so it has no outbox; processed_messages is
-- copied verbatim from platform/sql/outbox-inbox.sql.

CREATE TABLE notifications (
  id          serial         PRIMARY KEY,
  event_id    uuid           NOT NULL,
  event_type  varchar(50)    NOT NULL,
  order_id    integer        NOT NULL,
  user_id     integer,
  message     text           NOT NULL,
  occurred_at timestamptz(6) NOT NULL,
  created_at  timestamptz(6) NOT NULL DEFAULT now(),
  CONSTRAINT notifications_event_id_key UNIQUE (event_id)
);

CREATE INDEX notifications_order_id_idx ON notifications (order_id);
CREATE INDEX notifications_user_id_idx ON notifications (user_id);

-- processed_messages: a consumer inserts (consumer, event_id) in the same transaction as its
-- effect (recordInboxOnce); the primary key turns a redelivery into a no-op.
CREATE TABLE processed_messages (
  consumer     varchar(200)   NOT NULL,
  event_id     uuid           NOT NULL,
  processed_at timestamptz(6) NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
