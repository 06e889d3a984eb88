/**
 * In-memory state of the loopback GitHub test server and builders that render it as
 * REST API objects (simple-user, full-repository, pull-request, label, team).
 */
import { createHash } from 'node:crypto';

export interface RepoState {
  owner: string;
  name: string;
  id: number;
  defaultBranch: string;
  private: boolean;
  /** When set, `head`/`base` branches must be one of these. */
  branches: Set<string> | undefined;
  createdAt: string;
  pulls: PullState[];
  labels: Map<string, LabelState>;
  nextNumber: number;
}

export interface LabelState {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface PullState {
  number: number;
  id: number;
  state: 'open' | 'closed';
  title: string;
  body: string | null;
  draft: boolean;
  /** Repository the head branch lives in (the base repository unless it is a fork). */
  headRepo: RepoState;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  author: string;
  labels: string[];
  requestedReviewers: string[];
  requestedTeams: string[];
  maintainerCanModify: boolean;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface UrlBase {
  /** API root, e.g. `http://127.0.0.1:1234`. */
  api: string;
  /** Root for `html_url`s (same server; any string form is fine for clients). */
  html: string;
}

type Obj = Record<string, unknown>;

/** Stable positive integer id derived from a string. */
export function stableId(kind: string, key: string): number {
  return createHash('sha256').update(`${kind}:${key}`).digest().readUInt32BE(0) % 2_000_000_000;
}

export function fakeSha(...parts: Array<string | number>): string {
  return createHash('sha1').update(parts.join('\0')).digest('hex');
}

const nodeId = (prefix: string, id: number): string =>
  `${prefix}_${Buffer.from(`${prefix}:${id}`).toString('base64url')}`;

/** GitHub timestamps have second precision. */
export const timestamp = (date = new Date()): string =>
  date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function userObject(base: UrlBase, login: string): Obj {
  const id = stableId('user', login.toLowerCase());
  const api = `${base.api}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId('U', id),
    avatar_url: `${base.html}/avatars/u/${id}?v=4`,
    gravatar_id: '',
    url: api,
    html_url: `${base.html}/${encodeURIComponent(login)}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    user_view_type: 'public',
    site_admin: false,
  };
}

export function repoObject(base: UrlBase, repo: RepoState): Obj {
  const fullName = `${repo.owner}/${repo.name}`;
  const api = `${base.api}/repos/${fullName}`;
  const html = `${base.html}/${fullName}`;
  const openPulls = repo.pulls.filter((p) => p.state === 'open').length;
  return {
    id: repo.id,
    node_id: nodeId('R', repo.id),
    name: repo.name,
    full_name: fullName,
    owner: userObject(base, repo.owner),
    private: repo.private,
    visibility: repo.private ? 'private' : 'public',
    html_url: html,
    description: null,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `${html.replace(/^https?:/, 'git:')}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@127.0.0.1:${fullName}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    forks: 0,
    stargazers_count: 0,
    watchers_count: 0,
    watchers: 0,
    size: 0,
    default_branch: repo.defaultBranch,
    open_issues_count: openPulls,
    open_issues: openPulls,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    pushed_at: repo.createdAt,
    created_at: repo.createdAt,
    updated_at: repo.createdAt,
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    allow_rebase_merge: true,
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_auto_merge: false,
    delete_branch_on_merge: false,
    allow_forking: true,
    web_commit_signoff_required: false,
    license: null,
    network_count: 0,
    subscribers_count: 0,
  };
}

export function labelObject(base: UrlBase, repo: RepoState, label: LabelState): Obj {
  return {
    id: label.id,
    node_id: nodeId('LA', label.id),
    url: `${base.api}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: false,
  };
}

export function teamObject(base: UrlBase, org: string, slug: string): Obj {
  const id = stableId('team', `${org}/${slug}`.toLowerCase());
  const api = `${base.api}/organizations/${stableId('user', org.toLowerCase())}/team/${id}`;
  return {
    id,
    node_id: nodeId('T', id),
    url: api,
    html_url: `${base.html}/orgs/${org}/teams/${slug}`,
    name: slug,
    slug,
    description: null,
    privacy: 'closed',
    notification_setting: 'notifications_enabled',
    permission: 'pull',
    members_url: `${api}/members{/member}`,
    repositories_url: `${api}/repos`,
    type: 'organization',
    parent: null,
  };
}

const link = (href: string): Obj => ({ href });

/**
 * A pull request as returned by pulls/get, pulls/create and pulls/update (`full: true`), or the
 * pull-request-simple shape used by pulls/list and pulls/request-reviewers.
 */
export function pullObject(base: UrlBase, repo: RepoState, pull: PullState, full: boolean): Obj {
  const repoApi = `${base.api}/repos/${repo.owner}/${repo.name}`;
  const url = `${repoApi}/pulls/${pull.number}`;
  const html = `${base.html}/${repo.owner}/${repo.name}/pull/${pull.number}`;
  const issue = `${repoApi}/issues/${pull.number}`;
  const repository = repoObject(base, repo);
  const out: Obj = {
    url,
    id: pull.id,
    node_id: nodeId('PR', pull.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${repoApi}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: `${repoApi}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userObject(base, pull.author),
    body: pull.body,
    labels: pull.labels.flatMap((name) => {
      const label = repo.labels.get(name.toLowerCase());
      return label ? [labelObject(base, repo, label)] : [];
    }),
    milestone: null,
    active_lock_reason: null,
    created_at: pull.createdAt,
    updated_at: pull.updatedAt,
    closed_at: pull.closedAt,
    merged_at: null,
    merge_commit_sha: null,
    assignee: null,
    assignees: [],
    requested_reviewers: pull.requestedReviewers.map((login) => userObject(base, login)),
    requested_teams: pull.requestedTeams.map((slug) => teamObject(base, repo.owner, slug)),
    head: {
      label: `${pull.headRepo.owner}:${pull.headRef}`,
      ref: pull.headRef,
      sha: pull.headSha,
      user: userObject(base, pull.headRepo.owner),
      repo: pull.headRepo === repo ? repository : repoObject(base, pull.headRepo),
    },
    base: {
      label: `${repo.owner}:${pull.baseRef}`,
      ref: pull.baseRef,
      sha: pull.baseSha,
      user: userObject(base, repo.owner),
      repo: repository,
    },
    _links: {
      self: link(url),
      html: link(html),
      issue: link(issue),
      comments: link(`${issue}/comments`),
      review_comments: link(`${url}/comments`),
      review_comment: link(`${repoApi}/pulls/comments{/number}`),
      commits: link(`${url}/commits`),
      statuses: link(`${repoApi}/statuses/${pull.headSha}`),
    },
    author_association: 'CONTRIBUTOR',
    auto_merge: null,
    draft: pull.draft,
  };
  if (!full) return out;
  return {
    ...out,
    merged: false,
    mergeable: pull.state === 'open' ? true : null,
    rebaseable: pull.state === 'open' ? true : null,
    mergeable_state: pull.state === 'open' ? 'clean' : 'unknown',
    merged_by: null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: pull.maintainerCanModify,
    commits: 1,
    additions: 1,
    deletions: 0,
    changed_files: 1,
  };
}
