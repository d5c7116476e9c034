// One job: live status, counts and progress, its items page by page, and the
// cancel and re-run-dead actions.
import { graphql } from "/static/dashboard/api.js";
import { h, json, replace, statusBadge, when } from "/static/dashboard/dom.js";
import { watchJob } from "/static/dashboard/live.js";

const ITEMS_PAGE = 20;
const FINAL = new Set(["completed", "failed", "cancelled"]);
const ITEM_STATUSES = ["queued", "running", "retrying", "completed", "dead", "cancelled"];
// Selected only when the schema has them (older services do not).
const ITEM_PROGRESS = "progress { done total message }";
const JOB_PROGRESS = "progress { fraction done total }";

function jobQuery({ itemProgress, jobProgress }) {
  return `query Job($id: ID!, $status: String, $first: Int, $offset: Int) {
  job(id: $id) {
    id name description status size queued running retrying completed dead cancelled
    createdAt updatedAt finishedAt cancelledAt ${jobProgress ? JOB_PROGRESS : ""}
    items(status: $status, first: $first, offset: $offset) {
      index status attempts maxAttempts result errorType lastError startedAt finishedAt
      ${itemProgress ? ITEM_PROGRESS : ""}
    }
  }
}`;
}

const CANCEL = `mutation CancelJob($id: ID!) { cancelJob(id: $id) { id status } }`;
const RETRY_DEAD = `mutation RetryDeadItems($id: ID!) { retryDeadItems(id: $id) { id status } }`;

function progressText(progress) {
  if (!progress) return "";
  const total = progress.total ? `/${progress.total}` : "";
  return `${progress.done}${total}${progress.message ? ` ${progress.message}` : ""}`;
}

function bar(fraction, label) {
  const pct = Math.max(0, Math.min(100, Math.floor(fraction * 100)));
  return h("div", { class: "progress", role: "progressbar", "aria-valuenow": pct, "aria-valuemin": 0, "aria-valuemax": 100 },
    h("div", { class: "progress-fill", dataset: { pct } }), h("span", {}, label));
}

function summary(job, features) {
  const settled = job.completed + job.dead + job.cancelled;
  // with handler progress, the bar also counts the unfinished items' reported share
  const fraction = features.jobProgress && job.progress ? job.progress.fraction : settled / (job.size || 1);
  const counts = ["queued", "running", "retrying", "completed", "dead", "cancelled"]
    .map((k) => h("div", { class: `count count-${k}` }, h("span", { class: "count-n", dataset: { count: k } }, job[k]), h("span", {}, k)));
  return h("div", { class: "summary" },
    h("p", {}, statusBadge(job.status), ` ${job.name} · ${job.size} items · created ${when(job.createdAt)}`,
      job.finishedAt ? ` · finished ${when(job.finishedAt)}` : ""),
    bar(fraction, `${settled} of ${job.size} items settled · ${Math.floor(fraction * 100)}%`),
    h("div", { class: "counts" }, counts));
}

function itemRow(item, features) {
  return h("tr", { dataset: { item: item.index } },
    h("td", { class: "num" }, item.index),
    h("td", {}, statusBadge(item.status)),
    h("td", { class: "num" }, `${item.attempts}/${item.maxAttempts}`),
    features.itemProgress ? h("td", {}, progressText(item.progress)) : null,
    h("td", { class: "mono" }, json(item.result)),
    h("td", { class: "mono", title: item.errorType }, item.lastError ?? ""),
    h("td", {}, when(item.finishedAt)));
}

function itemsTable(items, features) {
  const head = ["#", "Status", "Attempts", features.itemProgress ? "Progress" : null, "Result", "Last error", "Finished"].filter(Boolean);
  return h("table", { class: "items" },
    h("thead", {}, h("tr", {}, head.map((t) => h("th", {}, t)))),
    h("tbody", {}, items.length ? items.map((item) => itemRow(item, features))
      : h("tr", {}, h("td", { colspan: head.length, class: "empty" }, "No items."))));
}

export async function jobView(section, id, { features, setMode, onError }) {
  const state = { offset: 0, status: "" };
  const head = h("div", { class: "job-head" });
  const actions = h("div", { class: "actions" });
  const itemsBox = h("div", { class: "items-box" });
  const pager = h("div", { class: "pager" });
  const itemFilter = h("select", { name: "item-status" }, h("option", { value: "" }, "all items"),
    ITEM_STATUSES.map((s) => h("option", { value: s }, s)));
  itemFilter.addEventListener("change", () => { state.status = itemFilter.value; state.offset = 0; refresh(); });
  replace(section, h("h1", {}, "Job ", h("code", {}, id)), head, actions,
    h("h2", {}, "Items ", itemFilter), itemsBox, pager);
  const query = jobQuery(features);
  let stop = () => {};

  async function act(mutation) {
    try {
      await graphql(mutation, { id });
      stop();
      stop = watchJob(id, refresh, setMode); // a re-run job is live again
    } catch (error) {
      onError(error, actions);
    }
  }

  async function refresh() {
    let job;
    try {
      job = (await graphql(query, { id, status: state.status || null, first: ITEMS_PAGE, offset: state.offset })).job;
    } catch (error) {
      onError(error, head);
      return false;
    }
    if (!job) {
      replace(head, h("p", { class: "error" }, "No such job (or it is not yours)."));
      return true;
    }
    replace(head, summary(job, features));
    for (const fill of head.querySelectorAll(".progress-fill")) fill.style.width = `${fill.dataset.pct}%`;
    replace(actions,
      h("button", { type: "button", name: "cancel", disabled: FINAL.has(job.status) || job.status === "cancelling", onclick: () => act(CANCEL) }, "Cancel job"),
      h("button", { type: "button", name: "retry-dead", disabled: !job.dead || job.status === "cancelled" || job.status === "cancelling", onclick: () => act(RETRY_DEAD) }, `Re-run dead items (${job.dead})`));
    replace(itemsBox, itemsTable(job.items, features));
    const last = job.items.length < ITEMS_PAGE;
    replace(pager,
      h("button", { type: "button", disabled: state.offset === 0, onclick: () => { state.offset -= ITEMS_PAGE; refresh(); } }, "Previous"),
      h("span", {}, ` items ${state.offset}–${state.offset + job.items.length - 1} `),
      h("button", { type: "button", disabled: last, onclick: () => { state.offset += ITEMS_PAGE; refresh(); } }, "Next"));
    return FINAL.has(job.status);
  }

  stop = watchJob(id, refresh, setMode);
  return () => stop();
}
