export { ROOT, startHostProcess, uniqueName, type HostProcess } from "../../tools/stack/hostProcess.js";
