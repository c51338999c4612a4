import { counter, gauge, histogram } from '../../../platform/index.ts';

/**
 * What an operator graphs for the Satel driver. No per-panel labels: 500 panels × N series would cost more
 * than it tells; per-panel detail is in `panel:{id}:state` and the logs.
 */
export const metrics = {
  connected: gauge('stam_satel_panels_connected', 'panels with a live, identified link'),
  backingOff: gauge('stam_satel_panels_backing_off', 'panels waiting to reconnect'),
  leasesHeld: gauge('stam_satel_leases_held', 'panel leases this driver holds (FEATURE_HA_ENABLED)'),
  leasesLost: counter('stam_satel_leases_lost_total', 'leases lost to expiry or another driver'),
  reconnects: counter('stam_satel_reconnects_total', 'reconnect attempts after a failed or lost link'),
  frames: counter('stam_satel_frames_total', 'integration-protocol frames, by direction', ['direction']),
  frameErrors: counter('stam_satel_frame_errors_total', 'rejected frames, stray bytes and bad encrypted PDUs, by code', ['code']),
  protocolErrors: counter('stam_satel_protocol_errors_total', 'failed requests and links: timeouts, Busy, unexpected answers, by code', ['code']),
  pollSeconds: histogram('stam_satel_poll_cycle_seconds', 'one poll cycle: 0x7F, changed state reads, log read, produce', [],
    [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2, 5]),
  pollInterval: histogram('stam_satel_poll_interval_seconds', 'time between the starts of two poll cycles of one panel', [],
    [0.5, 0.9, 1, 1.1, 1.25, 1.5, 2, 2.5, 3, 5, 10]),
  requestSeconds: histogram('stam_satel_request_seconds', 'one request to its answer (the module\'s round trip as the driver sees it)', [],
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]),
  pushes: counter('stam_satel_pushed_frames_total', 'state frames a module pushed in monitoring mode (each brings the next log read forward)'),
  logRecords: counter('stam_satel_log_records_total', 'panel event-log records read (0x8C)'),
  logGaps: counter('stam_satel_log_gaps_total', 'catch-ups that could not reach the cursor (log overwritten or cleared)'),
  events: counter('stam_satel_events_produced_total', 'SatelEvents acknowledged by the broker, by kind', ['kind']),
  links: counter('stam_satel_link_events_total', 'PanelLink events acknowledged by the broker, by status', ['status']),
  produceSeconds: histogram('stam_satel_produce_seconds', 'send to broker acknowledgement (acks -1), per batch', ['topic'],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  tracedAge: histogram('stam_satel_traced_event_age_seconds', 'load tests (SATEL_TRACE_SOURCE): stimulus in the simulator to broker ack, per traced event', [],
    [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 30]),
  logLinesHeld: counter('stam_satel_log_lines_held_total', 'log lines a panel\'s bad input would have written beyond SATEL_LOG_LINES_PER_MINUTE, by kind', ['kind']),
  produceErrors: counter('stam_satel_produce_errors_total', 'batches the broker did not acknowledge (retried, cursor not moved)', ['topic']),
};
