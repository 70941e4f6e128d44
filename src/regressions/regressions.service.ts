import { Injectable } from '@nestjs/common';
import { RegressionRepository, type FindingRow, type FindingState, type ListedTicket } from './regression.repository';

/** The read side for the API (`GET /api/v1/regressions?state=&team=&service=`), the email and the dashboard. */
@Injectable()
export class RegressionsService {
  constructor(private readonly repository: RegressionRepository) {}

  /** Findings filtered by state, owning team and service, most expensive first, with their ticket when filed. */
  list(
    filter: { state?: FindingState; team?: string; service?: string; fingerprint?: string } = {},
  ): Promise<Array<FindingRow & { ticket: ListedTicket | null }>> {
    return this.repository.list(filter);
  }
}
