import { SetMetadata } from '@nestjs/common';
import type { Scope } from './api-key.repository';

export const SCOPES_KEY = 'flamebill:apiScope';

/**
 * The scope a route of `/api/v1` needs. Routes there without it need `read`: the API is closed by default, and a
 * route another module serves under `/api/v1` (the leaderboards, the catalog) is protected without knowing it.
 */
export const RequireScope = (scope: Scope): MethodDecorator & ClassDecorator => SetMetadata(SCOPES_KEY, scope);
