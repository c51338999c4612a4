-- Satel driver: the event-log cursor per panel (ingest/satel/cursor.ts).
--
-- panel_cursors.last_log_index is the index of the newest panel event-log record the broker has
-- acknowledged (-1: the log was empty when first seen, so every record is new; NULL: never seen). The
-- driver writes it after the broker's ack, Redis first (panel:{id}:cursor) and PostgreSQL coalesced
-- about once a second; a restarted driver, or another one after failover, reads forward from it.
--
-- log_cursor_fencing: the lease fencing number of the driver that wrote the cursor. A driver that lost
-- its lease (paused past the TTL) cannot move the cursor back over a newer driver's write.
-- log_cursor_key: the dedup key of the record at last_log_index, so a cleared or replaced panel log
-- (the same index now holding another record) is noticed instead of silently skipped.
-- panel_cursors.fencing stays the processor's "highest fencing seen" (001); the two are not mixed.

ALTER TABLE panel_cursors
  ADD COLUMN log_cursor_fencing bigint NOT NULL DEFAULT 0,
  ADD COLUMN log_cursor_key     text,
  ADD COLUMN log_cursor_at      timestamptz,
  ADD CONSTRAINT panel_cursors_log_index_range CHECK (last_log_index IS NULL OR last_log_index BETWEEN -1 AND 16777215);
