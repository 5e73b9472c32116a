-- Consumers apply each order's events in `sequence` order (SPEC §6 "Ordering"): the inbox records
-- each event's place in its order's history (source, subject, sequence), so a later event can ask
-- whether the one before it has taken effect here (platform's inbox.ts). Rows claimed before this
-- migration have none; the unplaced index answers "is there such history" (decision 33).
ALTER TABLE processed_messages ADD COLUMN source varchar(200), ADD COLUMN subject varchar(200), ADD COLUMN sequence integer;
CREATE INDEX processed_messages_stream_idx ON processed_messages (consumer, source, subject, sequence) WHERE sequence IS NOT NULL;
CREATE INDEX processed_messages_unplaced_idx ON processed_messages (consumer) WHERE sequence IS NULL;
