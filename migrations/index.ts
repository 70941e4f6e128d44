import { InitialSchema1795318535842 } from './1795318535842-InitialSchema';
import { CreateProfiles1795318728174 } from './1795318728174-CreateProfiles';
import { ProfilesColumnStorage1795319649553 } from './1795319649553-ProfilesColumnStorage';
import { CreateCatalogAndCostFacts1795319665849 } from './1795319665849-CreateCatalogAndCostFacts';
import { FunctionDayBlocks1795322317881 } from './1795322317881-FunctionDayBlocks';
import { JobRunHeartbeat1796400000000 } from './1796400000000-JobRunHeartbeat';
import { FunctionServiceDays1796408671053 } from './1796408671053-FunctionServiceDays';
import { ProfileTrees1796409000000 } from './1796409000000-ProfileTrees';
import { ReportDeliveries1796420000000 } from './1796420000000-ReportDeliveries';
import { PushMerges1796421000000 } from './1796421000000-PushMerges';
import { WorkItemBusy1796422000000 } from './1796422000000-WorkItemBusy';
import { ApiKeysAndAudit1796430000000 } from './1796430000000-ApiKeysAndAudit';
import { RegressionFindings1796440000000 } from './1796440000000-RegressionFindings';
import { ServiceSecrets1796450000000 } from './1796450000000-ServiceSecrets';
import { OutboxDryRunRoute1796460000000 } from './1796460000000-OutboxDryRunRoute';
import { LabelDays1796470000000 } from './1796470000000-LabelDays';
import { FunctionServiceWeeks1796471000000 } from './1796471000000-FunctionServiceWeeks';
import { JobRequests1796490000000 } from './1796490000000-JobRequests';
import { CatalogTeamAnnotations1796500000000 } from './1796500000000-CatalogTeamAnnotations';
import { FunctionDayBlockParts1796510000000 } from './1796510000000-FunctionDayBlockParts';
import { ProvenanceDays1796520000000 } from './1796520000000-ProvenanceDays';
import { PushMergeTrees1796531000000 } from './1796531000000-PushMergeTrees';

/**
 * Every migration, oldest first. Listed by hand because glob loading finds nothing under a
 * TypeScript test runner. Add a new file's class at the end; never edit a migration that has landed.
 */
export const MIGRATIONS = [
  InitialSchema1795318535842,
  CreateProfiles1795318728174,
  ProfilesColumnStorage1795319649553,
  CreateCatalogAndCostFacts1795319665849,
  FunctionDayBlocks1795322317881,
  JobRunHeartbeat1796400000000,
  FunctionServiceDays1796408671053,
  ProfileTrees1796409000000,
  ReportDeliveries1796420000000,
  PushMerges1796421000000,
  WorkItemBusy1796422000000,
  ApiKeysAndAudit1796430000000,
  RegressionFindings1796440000000,
  ServiceSecrets1796450000000,
  OutboxDryRunRoute1796460000000,
  LabelDays1796470000000,
  FunctionServiceWeeks1796471000000,
  JobRequests1796490000000,
  CatalogTeamAnnotations1796500000000,
  FunctionDayBlockParts1796510000000,
  ProvenanceDays1796520000000,
  PushMergeTrees1796531000000,
];
