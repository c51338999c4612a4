-- Gateway: who switched service/test mode on and why, the realtime stream's history (what a resuming
-- WebSocket client missed beyond the Redis buffer), and the indexes of the operator API.

ALTER TABLE objects
  ADD COLUMN service_mode_by     bigint REFERENCES users(id),
  ADD COLUMN service_mode_at     timestamptz,
  ADD COLUMN service_mode_reason text,
  ADD COLUMN test_mode_by        bigint REFERENCES users(id),
  ADD COLUMN test_mode_at        timestamptz,
  ADD COLUMN test_mode_reason    text;

-- Modes that expire by themselves (swept by the gateway).
CREATE INDEX objects_service_until_idx ON objects (service_mode_until) WHERE service_mode_active AND service_mode_until IS NOT NULL;
CREATE INDEX objects_test_until_idx ON objects (test_mode_until) WHERE test_mode AND test_mode_until IS NOT NULL;

-- The alarm.updates.v1 stream as the gateway saw it: position = offset in the single-partition topic,
-- epoch = the stream generation (ws:epoch). Every gateway instance writes the same rows (idempotent); a
-- row with a NULL payload marks a position that carried no deliverable update (undecodable), so the
-- history is gap-free and a gap means "not recorded" → resync.
CREATE TABLE stream_history (
  epoch       uuid NOT NULL,
  position    bigint NOT NULL,
  alarm_id    bigint,
  version     integer,
  payload     jsonb,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (epoch, position)
);
CREATE INDEX stream_history_recorded_idx ON stream_history (recorded_at);

-- Operator feed: open alarms newest first (the default view), keyset paging per status, and time ranges
-- (ordered by first event time, then id).
CREATE INDEX alarms_open_id_idx ON alarms (id DESC) WHERE status IN ('NEW','CLAIMED','ACKNOWLEDGED');
CREATE INDEX alarms_status_id_idx ON alarms (status, id DESC);
CREATE INDEX alarms_status_time_idx ON alarms (status, first_event_at DESC, id DESC);
CREATE INDEX alarms_time_idx ON alarms (first_event_at DESC, id DESC);

CREATE INDEX audit_log_user_at_idx ON audit_log (user_id, at DESC);
CREATE INDEX audit_log_action_at_idx ON audit_log (action, at DESC);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX user_objects_object_idx ON user_objects (object_id);
CREATE INDEX sensors_object_idx ON sensors (object_id);
CREATE INDEX recorders_object_idx ON recorders (object_id);
