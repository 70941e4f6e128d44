import type { RegressionsSettings, TrackerName } from '../../domain/regression/regression-settings';
import { GitHubTracker } from './github.tracker';
import { GitLabTracker } from './gitlab.tracker';
import { JiraTracker } from './jira.tracker';
import { WebhookTracker } from './webhook.tracker';
import { RedmineTracker } from './redmine.tracker';
import { TrackerError, type Tracker } from './tracker';

/** Reads a secret from the environment; the error names the variable, never a value. */
function secret(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new TrackerError(`environment variable ${name} is not set`, null, false);
  return value;
}

/**
 * The adapter of a configured tracker. Throws a non-retryable TrackerError when the tracker is not configured
 * (a routing annotation that names it is a catalog problem) or its secret is missing.
 */
export function createTracker(
  name: TrackerName,
  settings: RegressionsSettings,
  env: NodeJS.ProcessEnv = process.env,
): Tracker {
  const timeout = settings.delivery.timeoutMs;
  const t = settings.trackers;
  switch (name) {
    case 'redmine':
      if (!t.redmine) break;
      return new RedmineTracker(t.redmine.url, secret(env, t.redmine.apiKeyEnv), timeout);
    case 'github':
      if (!t.github) break;
      return new GitHubTracker(t.github.url, secret(env, t.github.tokenEnv), timeout);
    case 'gitlab':
      if (!t.gitlab) break;
      return new GitLabTracker(t.gitlab.url, secret(env, t.gitlab.tokenEnv), timeout);
    case 'webhook':
      if (!t.webhook) break;
      return new WebhookTracker(t.webhook.url, secret(env, t.webhook.secretEnv), timeout);
    case 'jira':
      if (!t.jira) break;
      return new JiraTracker(t.jira.url, secret(env, t.jira.userEnv), secret(env, t.jira.tokenEnv), timeout);
  }
  throw new TrackerError(`tracker ${name} is not configured under regressions.trackers`, null, false);
}
