import type { Config } from '../config';

/** The slice of configuration the gateway reads. */
export type GatewaySettings = Config['gateway'];
export type GatewayLimits = GatewaySettings['limits'];
