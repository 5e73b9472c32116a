-- The relay's wait check (is an earlier row of this aggregate still unpublished?) walks the
-- unpublished position index up to the claim's last position (docs/decisions.md 39, 42). This
-- index, one entry per unpublished row by aggregate, served only an earlier form of that check;
-- the planner still chose it for the walk, and then read every unpublished entry at each claim
-- (a backlog after an outage: all of it, every batch). Dropping a partitioned index takes a brief
-- exclusive lock on the outbox and rewrites nothing.
DROP INDEX outbox_events_unpublished_aggregate_idx;
