/** The `source` of every envelope the offload publishes (`roam/<app>`, one per app). */
export const SOURCE = 'roam/offload';
