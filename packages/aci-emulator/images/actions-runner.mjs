// @ts-check
/**
 * Stand-in for ghcr.io/actions/actions-runner: confirms it received its just-in-time
 * configuration in the secure variable ACTIONS_RUNNER_INPUT_JITCONFIG, printing only its
 * length (the value is a credential), and exits 0. Keep the text in step with
 * runnerStandInOutput() in ../images.ts, which the sim runtime prints.
 */
const name = "ACTIONS_RUNNER_INPUT_JITCONFIG";
const config = process.env[name];
if (!config) {
  console.log(`actions-runner stand-in: no JIT configuration in ${name}; nothing to do`);
  process.exit(1);
}
console.log(`actions-runner stand-in: received JIT configuration in ${name} (${config.length} characters)`);
console.log("actions-runner stand-in: a real runner would now connect to GitHub and run one job");
