/**
 * Defaults of the panel simulator's settings, in one pure place: ConfigSchema (SIMULATOR_PORT,
 * SIMULATOR_CONTROL_PORT, SIMULATOR_USER_CODE) reads them, and so do the simulator's own options, which
 * cannot load config.ts (it reads the environment and YAML files). A leaf: no imports.
 */
export const SIMULATOR_DEFAULTS = {
  /** First panel port; panel i listens on port + i - 1. */
  port: 17_094,
  /** The simulator's control API. */
  controlPort: 7_080,
  /** The user code the simulated panels accept. */
  userCode: '1234',
  /** The fake FCM (HTTPS) of `stam simulator --fcm`. */
  fcmPort: 7_443,
  /** The pty link the modem simulator creates (socat), which sms-ingest opens when SMS_MODEM_DEVICE is unset. */
  modemDevice: '.data/modem/ttyGSM0',
} as const;
