// Dead letters across your jobs: items that failed on every attempt, grouped by
// job, newest job first, with a re-run button per job. The API lists dead items
// per job, so each page reads DEAD_SCAN jobs with their first DEAD_PER_JOB dead
// items and shows the jobs that have any.
import { graphql } from "/static/dashboard/api.js";
import { h, json, replace, statusBadge, when } from "/static/dashboard/dom.js";

const DEAD_SCAN = 50;
const DEAD_PER_JOB = 10;
const DEAD = `query Dead($first: Int, $after: String, $dead: Int) {
  myJobs(first: $first, after: $after) {
    nodes {
      id name status size dead createdAt
      items(status: "dead", first: $dead) { index attempts maxAttempts errorType lastError finishedAt }
    }
    nextCursor
  }
}`;
const RETRY_DEAD = `mutation RetryDeadItems($id: ID!) { retryDeadItems(id: $id) { id status dead } }`;

function jobBlock(job, onRetry) {
  const more = job.dead > job.items.length ? h("p", {}, h("a", { href: `#/job/${job.id}` }, `… and ${job.dead - job.items.length} more`)) : null;
  return h("article", { class: "dead-job", dataset: { job: job.id } },
    h("h2", {}, h("a", { href: `#/job/${job.id}` }, job.id.slice(0, 8)), ` ${job.name} `, statusBadge(job.status),
      ` ${job.dead} of ${job.size} dead · created ${when(job.createdAt)}`),
    h("table", { class: "items" },
      h("thead", {}, h("tr", {}, ["#", "Attempts", "Error", "Died"].map((t) => h("th", {}, t)))),
      h("tbody", {}, job.items.map((item) => h("tr", { dataset: { item: item.index } },
        h("td", { class: "num" }, item.index),
        h("td", { class: "num" }, `${item.attempts}/${item.maxAttempts}`),
        h("td", { class: "mono", title: item.errorType }, item.lastError ?? ""),
        h("td", {}, when(item.finishedAt)))))),
    more,
    h("button", { type: "button", name: "retry-dead", disabled: job.status === "cancelled", onclick: () => onRetry(job.id) }, "Re-run dead items"));
}

export async function deadView(section, _arg, { onError }) {
  const cursors = [null];
  const body = h("div", {});
  const pager = h("div", { class: "pager" });
  replace(section, h("h1", {}, "Dead letters"), body, pager);

  async function retry(id) {
    try {
      await graphql(RETRY_DEAD, { id });
      window.location.hash = `#/job/${id}`;
    } catch (error) {
      onError(error, body);
    }
  }

  async function show() {
    const after = cursors[cursors.length - 1];
    const page = (await graphql(DEAD, { first: DEAD_SCAN, after, dead: DEAD_PER_JOB })).myJobs;
    const jobs = page.nodes.filter((job) => job.dead > 0);
    replace(body, jobs.length ? jobs.map((job) => jobBlock(job, retry))
      : h("p", { class: "empty" }, after ? "No dead items in these older jobs." : "No dead items in your newest jobs."));
    replace(pager,
      h("button", { type: "button", disabled: cursors.length < 2, onclick: () => { cursors.pop(); show(); } }, "Newer jobs"),
      h("button", { type: "button", disabled: !page.nextCursor, onclick: () => { cursors.push(page.nextCursor); show(); } }, "Older jobs"));
  }

  await show();
}
