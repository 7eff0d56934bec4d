import type { KnownStatus, Task } from '../task';

/** One query of the operation-logs API; paging is the client's business. */
export interface TaskQuery {
  /** Look-back window in days, 1..30. */
  lastDays?: number;
  status?: KnownStatus;
  /** Server (host) name filter. */
  resourceName?: string;
  /** Overrides the client's enterprise project id for this query. */
  enterpriseProjectId?: string;
}

/** Every task of a query, all pages fetched; `calls` counts the HTTP calls it took. */
export interface TaskList {
  tasks: Task[];
  totalNum: number;
  calls: number;
}

/** What poll needs from HSS. */
export interface TaskSource {
  /** Fetches every page of `query`; throws an HssError when the window could not be read whole. */
  listTasks(query: TaskQuery): Promise<TaskList>;
  /** Running totals, when the source keeps them (the HSS client does). */
  readonly stats?: { calls: number; throttled: number };
}
