/**
 * The local Functions host as a library: `new LocalHost({...}).start()` runs an app's
 * HTTP, queue and timer functions in this process; `loadLocalSettings` reads its
 * local.settings.json the way the real tools do. The `functions-local-host` command
 * (main.ts) wires them together.
 */
export { LocalHost, type LocalHostOptions } from "./localHost.js";
export { DEFAULT_LOCAL_API_KEY, loadLocalSettings, localKeys } from "./settings.js";
