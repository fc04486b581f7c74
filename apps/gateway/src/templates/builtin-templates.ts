import type { TemplateSpec } from './template.schemas.js';

export interface BuiltinTemplate {
  /** Fixed, so every gateway that boots writes the same row (`tenant_id` is null, and a unique
   * index does not dedupe nulls: the id is what keeps it single). */
  id: string;
  name: string;
  spec: TemplateSpec;
}

/**
 * Runs the first `.sumocfg` found under the inputs directory with SUMO, from that file's
 * directory so the relative paths inside the config (networks, routes, outputs) resolve.
 * `ROAM_INPUTS_DIR` is where the inputs work mounts the unpacked upload.
 */
const SUMO_SCRIPT = [
  'set -eu',
  'inputs="${ROAM_INPUTS_DIR:-/roam/inputs}"',
  'results="${ROAM_RESULTS_DIR:-/roam/results}"',
  // Written as `a | b || exec …` rather than `if`, so the simulator's shell subset runs it too
  // (docs/storage.md): there `grep` "would run" and succeeds.
  `find "$inputs" -name '*.sumocfg' | grep -q . || exec sh -c 'echo "no .sumocfg file in $1" >&2; exit 2' sh "$inputs"`,
  `cfg="$(find "$inputs" -name '*.sumocfg' | sort | head -n 1)"`,
  'mkdir -p "$results"',
  'cd "$(dirname "$cfg")"',
  'echo "Starting SUMO simulation ${SCENARIO_ID} ($cfg)"',
  // Every output the .sumocfg names lands in the results directory (collected as results).
  'sumo -c "$(basename "$cfg")" --output-prefix "$results/"',
  'echo "scenario=${SCENARIO_ID} job=${ROAM_JOB_ID} attempt=${ROAM_ATTEMPT}" > "${ROAM_RESULTS_DIR}/run.txt"',
].join('\n');

/**
 * SUMO-K8's simulation job as a template. The image is Eclipse SUMO's official one
 * (https://github.com/eclipse-sumo/sumo/pkgs/container/sumo); pin a version tag in production.
 * SUMO-K8 form (`POST /jobs`) fills SCENARIO_ID and the resources.
 */
export const SUMO_TEMPLATE: BuiltinTemplate = {
  id: '00000000-0000-4000-8000-73756d6f0001',
  name: 'sumo',
  spec: {
    image: 'ghcr.io/eclipse-sumo/sumo:latest',
    command: ['sh', '-c', SUMO_SCRIPT],
    env: { SCENARIO_ID: 'default' },
    resources: { cpu: '1', memory: '2Gi', gpu: 0 },
    queue: 'user-queue',
    labels: { 'roam.dev/template': 'sumo' },
    priority: 0,
    ttl_seconds_after_finished: 120,
    offload: 'never',
    results: { patterns: ['*.xml', '*.txt', '*.log'] },
    inputs: { required: ['*.sumocfg'] },
  },
};

export const BUILTIN_TEMPLATES: readonly BuiltinTemplate[] = [SUMO_TEMPLATE];
