/**
 * GET /api/health: that this is Burst and it answers. `instance` echoes BURST_INSTANCE_ID,
 * which `npm start` sets to a fresh value, so it can tell its own host from anything else
 * that happens to listen on the port.
 */
import { json, type ApiResponse } from "./http.js";

export async function health(env: NodeJS.ProcessEnv = process.env): Promise<ApiResponse> {
  return json(200, { service: "burst", status: "ok", instance: env.BURST_INSTANCE_ID ?? null });
}
