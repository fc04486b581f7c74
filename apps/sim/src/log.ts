// JSON log lines on stderr for problems inside the simulator (a failing controller must be
// visible but never crash the server). Every line says the cluster is simulated.
export function logError(msg: string, err?: unknown): void {
  const detail =
    err instanceof Error
      ? (err.stack ?? err.message)
      : err === undefined
        ? undefined
        : JSON.stringify(err);
  process.stderr.write(
    `${JSON.stringify({ level: 'error', component: 'roam-sim', simulated: true, msg, err: detail })}\n`,
  );
}
