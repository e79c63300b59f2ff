/**
 * Environment variables that common CI/CD systems and platforms set to the commit being built
 * or deployed, in the order they are tried. The first non-empty one wins.
 */
export const VCS_REVISION_ENV_VARS: readonly string[] = [
  'COSTTRACE_VCS_REVISION', // explicit, for anything not listed below
  'GITHUB_SHA', // GitHub Actions
  'CI_COMMIT_SHA', // GitLab CI
  'BUILDKITE_COMMIT', // Buildkite
  'CIRCLE_SHA1', // CircleCI
  'BITBUCKET_COMMIT', // Bitbucket Pipelines
  'TRAVIS_COMMIT', // Travis CI
  'DRONE_COMMIT_SHA', // Drone / Woodpecker
  'CI_COMMIT_ID', // Woodpecker (older)
  'BUILD_SOURCEVERSION', // Azure Pipelines
  'CODEBUILD_RESOLVED_SOURCE_VERSION', // AWS CodeBuild
  'COMMIT_SHA', // Google Cloud Build
  'GIT_COMMIT', // Jenkins
  'VERCEL_GIT_COMMIT_SHA', // Vercel
  'RENDER_GIT_COMMIT', // Render
  'RAILWAY_GIT_COMMIT_SHA', // Railway
  'CF_PAGES_COMMIT_SHA', // Cloudflare Pages
  'HEROKU_SLUG_COMMIT', // Heroku (dyno metadata)
  'SOURCE_VERSION', // Heroku build
  'SOURCE_COMMIT', // Coolify and others
];

const REVISION = /^[0-9A-Za-z._/-]{1,128}$/;

export interface DetectedVcsRevision {
  readonly revision: string;
  /** The environment variable it came from. */
  readonly variable: string;
}

/** The commit this process runs, from CI/CD environment variables; undefined when none is set. */
export function detectVcsRevision(env: NodeJS.ProcessEnv = process.env): DetectedVcsRevision | undefined {
  for (const variable of VCS_REVISION_ENV_VARS) {
    const value = env[variable]?.trim();
    if (value !== undefined && REVISION.test(value)) return { revision: value, variable };
  }
  return undefined;
}
