/** The `source` of every envelope the notifier publishes (`roam/<app>`, one per app). */
export const SOURCE = 'roam/notifier';
