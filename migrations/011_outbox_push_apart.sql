-- A push job is published on its own, after its alarm update: RabbitMQ being away must never hold an alarm
-- update back from operators' screens. push_published_at marks a row whose job RabbitMQ confirmed; the
-- relay's retention keeps a row until its job went out.
ALTER TABLE outbox ADD COLUMN push_published_at timestamptz;
UPDATE outbox SET push_published_at = published_at WHERE push AND published_at IS NOT NULL;
CREATE INDEX outbox_push_pending_idx ON outbox (id) WHERE push AND push_published_at IS NULL;
