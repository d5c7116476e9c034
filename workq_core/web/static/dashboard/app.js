// The dashboard: a client of the jobs service's public GraphQL API, routed by
// the URL's hash (#/jobs, #/job/ID, #/dead, #/submit/TYPE).
//
// Signing in happens on the auth service's sign-in page (the jobs service has
// no login): its cookie is host-wide, so once it is set the API calls here are
// authenticated. An UNAUTHENTICATED answer sends the browser there, with a
// `next` link back to where it was.
import { graphql, isUnauthenticated, messageOf } from "/static/dashboard/api.js";
import { h, replace } from "/static/dashboard/dom.js";
import { deadView } from "/static/dashboard/dead.js";
import { jobView } from "/static/dashboard/job.js";
import { jobsView } from "/static/dashboard/jobs.js";
import { submitView } from "/static/dashboard/submit.js";

const view = document.getElementById("view");
const signInUrl = document.querySelector('meta[name="workq-sign-in"]').content;
let stopView = () => {};

/** What this service's schema offers beyond the original API (introspection permitting). */
async function capabilities() {
  try {
    const data = await graphql(`{
      item: __type(name: "Item") { fields { name } }
      job: __type(name: "Job") { fields { name } }
    }`);
    const has = (type, name) => Boolean(data[type]?.fields?.some((f) => f.name === name));
    return { itemProgress: has("item", "progress"), jobProgress: has("job", "progress") };
  } catch {
    return { itemProgress: false, jobProgress: false };
  }
}

export function signIn() {
  const target = new URL(signInUrl, window.location.href);
  target.searchParams.set("next", window.location.href);
  window.location.assign(target.href);
}

function signOut(event) {
  event.preventDefault();
  const target = new URL(signInUrl, window.location.href);
  target.searchParams.set("signout", "1");
  target.searchParams.set("next", window.location.origin + "/");
  window.location.assign(target.href);
}

function setMode(mode) {
  document.getElementById("live-mode").textContent = mode ? `live: ${mode}` : "";
}

async function route(context) {
  stopView();
  setMode("");
  const [, page = "jobs", ...rest] = window.location.hash.replace(/^#/, "").split("/");
  const arg = rest.map(decodeURIComponent).join("/");
  const views = { jobs: jobsView, job: jobView, dead: deadView, submit: submitView };
  const render = views[page] ?? jobsView;
  const section = h("section", { class: `page page-${page}` });
  replace(view, section);
  try {
    stopView = (await render(section, arg, { ...context, setMode, onError })) ?? (() => {});
  } catch (error) {
    onError(error, section);
  }
}

/** Errors of a view: UNAUTHENTICATED goes to the sign-in page, others are shown. */
function onError(error, where = view) {
  if (isUnauthenticated(error)) {
    signIn();
    return;
  }
  where.querySelector(":scope > .view-error")?.remove(); // one message, the latest
  where.prepend(h("p", { class: "error view-error", role: "alert" }, messageOf(error)));
}

async function start() {
  document.getElementById("sign-out").addEventListener("click", signOut);
  let jobTypes;
  try {
    jobTypes = (await graphql(`{ jobs { name description inputSchema } }`)).jobs;
  } catch (error) {
    onError(error);
    return;
  }
  const context = { jobTypes, features: await capabilities() };
  window.addEventListener("hashchange", () => route(context));
  route(context);
}

start();
