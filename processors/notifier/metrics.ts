import { counter, gauge, histogram } from '../../platform/index.ts';

/** The notifier's metrics, in one list (no per-alarm or per-device labels). */
export const m = {
  sends: counter('stam_notifier_sends_total', 'sends to one device, by what FCM answered: accepted, remove_token, quarantine, retry, rejected, credential', ['outcome']),
  jobs: counter('stam_notifier_jobs_total', 'push jobs settled, by outcome: sent, dead_lettered, requeued, invalid, or why nothing was sent', ['outcome']),
  latency: histogram('stam_notifier_push_latency_seconds', 'alarm opened (alarms.created_at) → FCM accepted, per device', [],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]),
  fcmBatchSeconds: histogram('stam_notifier_fcm_batch_seconds', 'one sendEachForMulticast call (all its devices)', [],
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15]),
  queueDepth: gauge('stam_notifier_queue_depth', 'push jobs waiting in notifications.push (ready, not yet delivered)'),
  deadLetterDepth: gauge('stam_notifier_dead_letter_depth', 'push jobs in notifications.push.dlq'),
  oldestAge: gauge('stam_notifier_oldest_job_age_seconds', 'age (since the relay published it) of the oldest job the notifier holds unacknowledged'),
  credentialFailed: gauge('stam_notifier_credential_failed', 'ALERT: 1 while FCM refuses the credential and nothing is sent'),
  prunedDevices: counter('stam_notifier_pruned_devices_total', 'device tokens pruned as stale'),
};
