// The jobs list: filters (status, type, creation date), live counts, paging.
//
// The API filters by status and type; it has no date filter, so the dates are
// applied here: pages are read newest first (at most SCAN_PAGES per view)
// and jobs outside the dates are left out. Counts refresh every LIST_REFRESH_MS.
import { graphql } from "/static/dashboard/api.js";
import { h, replace, statusBadge, when } from "/static/dashboard/dom.js";
import { every } from "/static/dashboard/live.js";

export const JOB_STATUSES = ["queued", "running", "cancelling", "completed", "failed", "cancelled"];
const PAGE = 20;
const SCAN_PAGES = 10;
const LIST_REFRESH_MS = 2000;
const MY_JOBS = `query MyJobs($status: String, $type: String, $first: Int, $after: String) {
  myJobs(status: $status, type: $type, first: $first, after: $after) {
    nodes { id name status size queued running retrying completed dead cancelled createdAt finishedAt }
    nextCursor
  }
}`;

function filtersFrom(arg) {
  const params = new URLSearchParams(arg);
  return {
    status: params.get("status") || "",
    type: params.get("type") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
  };
}

function query(filters) {
  return new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString();
}

function hashOf(filters) {
  return `#/jobs/${query(filters)}`;
}

/** Local-day bounds of the date filter as ms since epoch ([from, to+1 day)). */
function dateBounds({ from, to }) {
  const start = from ? new Date(`${from}T00:00:00`).getTime() : -Infinity;
  const end = to ? new Date(`${to}T00:00:00`).getTime() + 86_400_000 : Infinity;
  return { start, end };
}

/** One page of matching jobs starting at cursor `after`; `{jobs, next}`. */
async function readPage(filters, after) {
  const { start, end } = dateBounds(filters);
  const variables = { status: filters.status || null, type: filters.type || null, first: PAGE, after };
  const jobs = [];
  for (let scanned = 0; scanned < SCAN_PAGES; scanned++) {
    const page = (await graphql(MY_JOBS, variables)).myJobs;
    let passed = false;
    for (const job of page.nodes) {
      const created = new Date(job.createdAt).getTime();
      if (created < start) passed = true;
      else if (created < end) jobs.push(job);
    }
    variables.after = passed ? null : page.nextCursor;
    if (jobs.length || !variables.after) break;
  }
  return { jobs, next: variables.after };
}

function filterForm(filters, jobTypes) {
  const select = (name, label, values) => h("label", {}, label,
    h("select", { name }, h("option", { value: "" }, "any"),
      ...values.map((v) => h("option", { value: v, selected: v === filters[name] }, v))));
  const date = (name, label) => h("label", {}, label,
    h("input", { type: "date", name, value: filters[name] || null }));
  const form = h("form", { class: "filters" },
    select("status", "Status", JOB_STATUSES),
    select("type", "Type", jobTypes.map((t) => t.name)),
    date("from", "Created from"), date("to", "to"),
    h("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    window.location.hash = hashOf(Object.fromEntries(["status", "type", "from", "to"].map((k) => [k, data.get(k)])));
  });
  return form;
}

function row(job) {
  return h("tr", { dataset: { job: job.id } },
    h("td", {}, h("a", { href: `#/job/${job.id}` }, job.id.slice(0, 8))),
    h("td", {}, job.name),
    h("td", {}, statusBadge(job.status)),
    h("td", { class: "num" }, job.size),
    h("td", { class: "num" }, job.queued),
    h("td", { class: "num" }, job.running),
    h("td", { class: "num" }, job.retrying),
    h("td", { class: "num" }, job.completed),
    h("td", { class: "num" }, job.dead),
    h("td", { class: "num" }, job.cancelled),
    h("td", {}, when(job.createdAt)));
}

function table(jobs, filters) {
  const head = ["Job", "Type", "Status", "Items", "Queued", "Running", "Retrying", "Completed", "Dead", "Cancelled", "Created"];
  return h("table", { class: "jobs", dataset: { filters: query(filters) } },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))),
    h("tbody", {}, jobs.length ? jobs.map(row) : h("tr", {}, h("td", { colspan: head.length, class: "empty" }, "No jobs."))));
}

function totals(jobs) {
  const sum = (key) => jobs.reduce((n, job) => n + job[key], 0);
  const keys = ["queued", "running", "retrying", "completed", "dead", "cancelled"];
  return h("p", { class: "totals" }, `${jobs.length} jobs on this page · `,
    keys.map((k) => `${k} ${sum(k)}`).join(" · "));
}

export async function jobsView(section, arg, { jobTypes, setMode, onError }) {
  const filters = filtersFrom(arg);
  const cursors = [null]; // cursors of the pages seen, for "Newer"
  let next = null;
  const body = h("div", { class: "jobs-body" });
  const pager = h("div", { class: "pager" });
  replace(section, h("h1", {}, "Jobs"), filterForm(filters, jobTypes), body, pager);

  async function show() {
    try {
      const page = await readPage(filters, cursors[cursors.length - 1]);
      next = page.next;
      replace(body, totals(page.jobs), table(page.jobs, filters));
      replace(pager,
        h("button", { type: "button", disabled: cursors.length < 2, onclick: () => { cursors.pop(); show(); } }, "Newer"),
        h("button", { type: "button", disabled: !next, onclick: () => { cursors.push(next); show(); } }, "Older"));
    } catch (error) {
      onError(error, body);
    }
  }

  await show();
  setMode(`polling every ${LIST_REFRESH_MS / 1000} s`);
  return every(LIST_REFRESH_MS, show);
}
