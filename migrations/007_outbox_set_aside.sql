-- An outbox row the relay cannot publish (its payload does not encode, or the broker refuses it for good)
-- is set aside instead of holding every later row: marked with the time and the reason, counted, shown by
-- `stam dlq list`, and put back in line by `stam dlq replay outbox` once the cause is fixed.
ALTER TABLE outbox
  ADD COLUMN failed_at timestamptz,
  ADD COLUMN error     text;
DROP INDEX outbox_unpublished_idx;
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_set_aside_idx ON outbox (id) WHERE failed_at IS NOT NULL;
