export * from './catalog.types';
export { parseCatalog, splitServiceNames, SERVICE_NAMES_ANNOTATION } from './catalog.parser';
export { resolveService, type ServiceResolution, type OwnedService, type MatchKind } from './service-resolver';
export { parseEntityRef, entityKey, isValidEntityName, DEFAULT_NAMESPACE } from './entity-ref';
export { ancestorsOf } from './group-tree';
export { catalogRevisionId } from './catalog-revision';
export { locationTargets, type LocationTarget } from './catalog-locations';
