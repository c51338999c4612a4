-- SMS intake (ingest/sms, issue #11).
--
-- sensors (001) maps an SMS to its object: by sensor_ref (the vendor's serial as the text shows it), by
-- name, or by an alias (the name the vendor's cloud or device writes, e.g. an Efento Cloud location), and by
-- its sender (phone number or alphanumeric name). `template` names the config/sms-templates.yaml template
-- its SMS are tried with first.
--
-- The "unknown senders" idea is data: the object SMS-UNKNOWN holds the catch-all sensor '*' — the processor
-- routes an SMS no sensor claims there (a WARNING "unrecognised SMS" alarm an operator reads, never
-- silence). The object SMS-GATEWAY holds the sensor 'modem', the GSM modem itself, whose outages are alarms
-- like a lost panel link; on an object of its own, so a flood of junk SMS never absorbs a modem alarm.
ALTER TABLE sensors
  ADD COLUMN template text,
  ADD COLUMN aliases  text[] NOT NULL DEFAULT '{}';
CREATE INDEX sensors_ref_idx ON sensors (sensor_ref);
CREATE INDEX sensors_sender_idx ON sensors (sender);

INSERT INTO objects (code, name, address) VALUES ('SMS-UNKNOWN', 'SMS from unknown senders', ''), ('SMS-GATEWAY', 'SMS gateway (GSM modem)', '')
  ON CONFLICT (code) DO NOTHING;
INSERT INTO sensors (object_id, vendor, sender, sensor_ref, name)
  SELECT id, 'other', '*', '*', 'Unknown SMS senders' FROM objects WHERE code = 'SMS-UNKNOWN'
  ON CONFLICT (vendor, sensor_ref) DO NOTHING;
INSERT INTO sensors (object_id, vendor, sender, sensor_ref, name)
  SELECT id, 'other', 'modem', 'modem', 'GSM modem' FROM objects WHERE code = 'SMS-GATEWAY'
  ON CONFLICT (vendor, sensor_ref) DO NOTHING;

-- The modem's supervision survives a restart of sms-ingest: an outage already announced (MODEM_DOWN) is
-- continued under the same start time, so its restore matches and nothing is announced twice.
CREATE TABLE sms_modem_state (
  modem          text PRIMARY KEY,
  down_since     timestamptz,
  down_announced boolean NOT NULL DEFAULT false,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- The parts of long SMS whose joined message the broker acknowledged, by a hash of their PDU: written before
-- the parts are deleted, so parts left on the SIM by a crash in the middle of deleting them are recognised
-- when read again and deleted, instead of being joined into a partial copy of a message already produced.
CREATE TABLE sms_acked_parts (
  pdu_sha   text PRIMARY KEY,
  dedup_key text NOT NULL,
  acked_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_acked_parts_at_idx ON sms_acked_parts (acked_at);

-- Installations whose alarm_rules were seeded before this migration get the rules of the new SmsEvent
-- kinds (a fresh database is seeded from config/alarm-rules.yaml, which has them).
INSERT INTO alarm_rules (position, source, kind, effect, category, severity, title)
SELECT (SELECT max(position) FROM alarm_rules) + 10 * n, 'sms', kind, effect, category, severity, title
  FROM (VALUES
    (1, 'BATTERY_RESTORED', 'restore', 'sensor-battery', 'WARNING', 'Sensor battery replaced {sensor}'),
    (2, 'CONNECTION_RESTORED', 'restore', 'sensor-link', 'WARNING', 'Sensor connection restored {sensor}'),
    (3, 'MODEM_DOWN', 'open', 'modem-link', 'CRITICAL', 'GSM modem down'),
    (4, 'MODEM_RESTORED', 'restore', 'modem-link', 'CRITICAL', 'GSM modem restored')
  ) AS r(n, kind, effect, category, severity, title)
 WHERE EXISTS (SELECT 1 FROM alarm_rules)
   AND NOT EXISTS (SELECT 1 FROM alarm_rules a WHERE a.source = 'sms' AND a.kind = r.kind);
UPDATE alarm_rules SET title = 'Unrecognised SMS ({sensor})' WHERE source = 'sms' AND kind = 'UNCLASSIFIED' AND title = 'Unclassified SMS';
