/** The `source` of every envelope the gateway publishes (`roam/<app>`, one per app). */
export const SOURCE = 'roam/gateway';
