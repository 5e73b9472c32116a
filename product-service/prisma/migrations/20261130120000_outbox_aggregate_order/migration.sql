-- The relay publishes one aggregate's events in outbox order however many relays run: for each row it
-- claims it asks whether an earlier row of the same aggregate is still unpublished (platform's
-- outbox-relay.ts), which this partial index answers from the unpublished tail alone.
CREATE INDEX outbox_events_unpublished_aggregate_idx ON outbox_events (aggregate_type, aggregate_id, position) WHERE published_at IS NULL;
