/** The `source` of every envelope the scheduler publishes (`roam/<app>`, one per app). */
export const SOURCE = 'roam/scheduler';
