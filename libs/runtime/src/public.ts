import { SetMetadata } from '@nestjs/common';

/** Metadata key read by an app's auth guard: routes marked `@Public()` need no credentials. */
export const PUBLIC_ROUTE = 'roam:public';
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
