export { ROOT, startHostProcess, uniqueName, type HostProcess } from "../../tools/launcher/hostProcess.js";
