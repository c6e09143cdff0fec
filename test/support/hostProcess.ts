export { ROOT, startHostProcess, uniqueName, type HostProcess } from "../../src/stack/hostProcess.js";
