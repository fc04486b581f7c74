// The kubeconfig clients use to reach the simulator. Plain http needs
// insecure-skip-tls-verify for @kubernetes/client-node to accept it.
export function renderKubeconfig(url: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    '# roam simulated Kubernetes cluster (not a real cluster)',
    'clusters:',
    '- name: roam-sim',
    '  cluster:',
    `    server: ${url}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: roam-sim',
    '  user:',
    '    token: simulated',
    'contexts:',
    '- name: roam-sim',
    '  context:',
    '    cluster: roam-sim',
    '    user: roam-sim',
    '    namespace: default',
    'current-context: roam-sim',
    'preferences: {}',
    '',
  ].join('\n');
}
