-- Analysts (read-only: reports and replay, no alarm handling), and what the report queries read by.
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('ADMIN','SUPERVISOR','OPERATOR','TECHNICIAN','FIELD_WORKER','SYSTEM','ANALYST'));
CREATE INDEX alarms_created_idx ON alarms (created_at);
CREATE INDEX commands_created_idx ON commands (created_at);
CREATE INDEX events_link_idx ON events (panel_id, kind) WHERE source = 'link';
