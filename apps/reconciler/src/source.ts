/** The `source` of every envelope the reconciler publishes (`roam/<app>`, one per app). */
export const SOURCE = 'roam/reconciler';
