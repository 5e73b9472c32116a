-- The relay's wait check (is an earlier row of this aggregate still unpublished?) walks the
-- unpublished position index up to the claim's last position (docs/decisions.md 39, 42). This
-- index, one entry per unpublished row by aggregate, served only an earlier form of that check;
-- the planner still chose it for the walk, and then read every unpublished entry at each claim
-- (a backlog after an outage: all of it, every batch).
--
-- Dropping a partitioned index rewrites nothing, but it needs an exclusive lock on the outbox and
-- cannot be done CONCURRENTLY. A running relay holds its batch's rows until the broker confirms
-- them, and every writer that comes after the DROP queues behind it. So the DROP waits at most 2 s
-- at a time for the batches in flight and tries again (30 times, a second apart), instead of
-- holding the service's writes up behind a relay that stopped answering. Tried: with a batch held
-- for 7 s, a writer that came 1 s after the DROP waited 1 s (until that try gave up), and the DROP
-- went through once the batch committed.
DO $$
BEGIN
  FOR attempt IN 1..30 LOOP
    BEGIN
      PERFORM set_config('lock_timeout', '2s', true);
      DROP INDEX IF EXISTS outbox_events_unpublished_aggregate_idx;
      RETURN;
    EXCEPTION WHEN lock_not_available THEN
      PERFORM pg_sleep(1);
    END;
  END LOOP;
  RAISE EXCEPTION 'outbox_events was never free of relay batches for 2 s in 30 tries; the migration runs again at the next start';
END $$;
