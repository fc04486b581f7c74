/** The `source` of every envelope the failover publishes (`roam/<app>`, one per app). */
export const SOURCE = 'roam/failover';
