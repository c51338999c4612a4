-- Panel log records carry a 10-bit event code (Satel's table, numbered like Contact ID: 110-117 fire,
-- 100-102 medical, 120-123 panic, 121 duress, 15x technical …). A rule may match a range of codes, so a
-- fire alarm from the log is a fire alarm, not the class-wide "intrusion" of its class 0.
ALTER TABLE alarm_rules
  ADD COLUMN log_code_from integer CHECK (log_code_from BETWEEN 0 AND 1023),
  ADD COLUMN log_code_to   integer CHECK (log_code_to BETWEEN 0 AND 1023),
  ADD CONSTRAINT alarm_rules_log_codes_ck CHECK (
    (log_code_from IS NULL AND log_code_to IS NULL) OR (log_code_from IS NOT NULL AND log_code_to >= log_code_from));
