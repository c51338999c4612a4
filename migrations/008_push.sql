-- Push notifications (FCM) of CRITICAL alarms to field staff's phones (issue #18).
--
-- user_devices (001) is the phone-token registry: one row per FCM registration token, owned by the user
-- who registered it last (a token moves to its newest user). last_seen_at is when the app last
-- registered or refreshed it; tokens unseen for 270 days are pruned (FCM's own staleness rule). A token
-- FCM calls foreign to this project (SENDER_ID_MISMATCH) is quarantined rather than deleted: no more
-- sends, shown to its owner, cleared when the app registers it again.
ALTER TABLE user_devices
  ADD COLUMN app_version       text NOT NULL DEFAULT '',
  ADD COLUMN last_seen_at      timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN quarantined_at    timestamptz,
  ADD COLUMN quarantine_reason text,
  ADD CONSTRAINT user_devices_platform_ck CHECK (platform IN ('android', 'ios', 'web'));
CREATE INDEX user_devices_user_idx ON user_devices (user_id);
CREATE INDEX user_devices_last_seen_idx ON user_devices (last_seen_at);

-- Supervisors on duty: a shift that ends by itself (set with `stam user duty`).
ALTER TABLE users ADD COLUMN on_duty_until timestamptz;

-- Who gets a push, as data: every enabled rule names a role and which of its users — those assigned to
-- the alarm's object (user_objects), those on duty now (users.on_duty_until), or all of them. A user
-- matched by several rules gets one push per device. Only CRITICAL alarms are pushed at all, never for
-- objects in service or test mode (domain/alarm.ts shouldPush, checked again by the notifier at send time).
CREATE TABLE push_recipient_rules (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  role     text NOT NULL CHECK (role IN ('ADMIN','SUPERVISOR','OPERATOR','TECHNICIAN','FIELD_WORKER','SYSTEM')),
  audience text NOT NULL CHECK (audience IN ('assigned', 'on_duty', 'all')),
  enabled  boolean NOT NULL DEFAULT true,
  note     text NOT NULL DEFAULT '',
  UNIQUE (role, audience)
);
INSERT INTO push_recipient_rules (role, audience, note) VALUES
  ('FIELD_WORKER', 'assigned', 'field workers assigned to the object'),
  ('TECHNICIAN',   'assigned', 'technicians assigned to the object'),
  ('SUPERVISOR',   'on_duty',  'supervisors on duty');

-- The sends ledger: one row per alarm opening (push jobs exist only for openings, so the alarm id names
-- it) and device. The notifier claims the row before it sends (inside a transaction that holds the row
-- until the outcome is written, so a second copy of the job waits and then skips), and writes FCM's
-- message name once FCM accepted. A redelivered job skips every device with a name: one notification per
-- alarm opening per device. first_attempt_at starts the retry deadline; a dead-lettered row starts over
-- when its job is replayed.
CREATE TABLE push_sends (
  alarm_id          bigint NOT NULL REFERENCES alarms(id) ON DELETE CASCADE,
  device_id         bigint NOT NULL,              -- user_devices.id; kept when the device row is removed
  user_id           bigint REFERENCES users(id) ON DELETE SET NULL,
  first_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_attempt_at   timestamptz NOT NULL DEFAULT now(),
  attempts          integer NOT NULL DEFAULT 1,
  fcm_message_name  text,                         -- projects/{id}/messages/{id}: FCM accepted it
  accepted_at       timestamptz,
  outcome           text NOT NULL DEFAULT 'pending'
                    CHECK (outcome IN ('pending', 'accepted', 'token_removed', 'quarantined', 'rejected', 'dead_lettered')),
  last_error        text,
  PRIMARY KEY (alarm_id, device_id)
);
CREATE INDEX push_sends_pending_idx ON push_sends (first_attempt_at) WHERE outcome = 'pending';
