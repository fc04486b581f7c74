// The `kueue` jest project (jest.config.mjs): every harness of the suites it runs admits
// through Kueue (ROAM_ADMISSION=kueue, the simulator playing Kueue).
process.env.ROAM_HARNESS_ADMISSION = 'kueue';
