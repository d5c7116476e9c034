// Submit a job: a form generated from the job type's input schema (one item),
// or a JSON list of items. Errors the API returns for a field are shown at
// that field; anything else above the form.
import { graphql } from "/static/dashboard/api.js";
import { h, replace } from "/static/dashboard/dom.js";
import { schemaForm } from "/static/dashboard/schemaform.js";

const EXECUTE = `mutation ExecuteJob($executeJobInput: ExecuteJobInput!) {
  executeJob(executeJobInput: $executeJobInput) { id }
}`;
// "item 0 of Fibonacci: field 'iterations': -1 is less than the minimum of 0"
const PREFIX = /^item \d+ of [^:]+: (field '[^']*': )?/;

export async function submitView(section, typeName, { jobTypes, onError }) {
  if (!jobTypes.length) {
    replace(section, h("h1", {}, "Submit a job"), h("p", {}, "No job types are installed."));
    return;
  }
  const jobType = jobTypes.find((t) => t.name === typeName) ?? jobTypes[0];
  const typeSelect = h("select", { name: "type" },
    jobTypes.map((t) => h("option", { value: t.name, selected: t === jobType }, t.name)));
  typeSelect.addEventListener("change", () => { window.location.hash = `#/submit/${encodeURIComponent(typeSelect.value)}`; });

  const form = schemaForm(jobType.inputSchema);
  const bulk = h("textarea", { name: "items", rows: 5, spellcheck: "false", placeholder: '[{"…": …}, {"…": …}]' });
  const bulkError = h("span", { class: "field-error", role: "alert", hidden: true });
  const key = h("input", { type: "text", name: "idempotencyKey", maxlength: 200 });
  const formError = h("p", { class: "error", role: "alert", hidden: true });
  const element = h("form", { class: "submit", novalidate: true },
    h("label", {}, "Job type ", typeSelect),
    h("p", { class: "hint" }, jobType.description),
    formError,
    form.element,
    h("details", {}, h("summary", {}, "Several items as JSON (used instead of the form when filled)"),
      h("div", { class: "field" }, bulk, bulkError)),
    h("label", {}, "Idempotency key (optional) ", key),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Submit")));
  replace(section, h("h1", {}, "Submit a job"), element);

  const show = (box, message) => { box.textContent = message; box.hidden = !message; };

  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.clear();
    show(formError, "");
    show(bulkError, "");
    let data;
    if (bulk.value.trim()) {
      try {
        data = JSON.parse(bulk.value);
      } catch {
        show(bulkError, "Not valid JSON.");
        return;
      }
    } else {
      const { item, errors } = form.read();
      const bad = Object.entries(errors);
      if (bad.length) {
        for (const [name, message] of bad) form.showError(name, message);
        return;
      }
      data = item;
    }
    const input = { name: jobType.name, data, idempotencyKey: key.value.trim() || null };
    try {
      const job = (await graphql(EXECUTE, { executeJobInput: input })).executeJob;
      window.location.hash = `#/job/${job.id}`;
    } catch (error) {
      const message = error.message.replace(PREFIX, "");
      if (error.code === "BAD_USER_INPUT" && error.field && !bulk.value.trim() && form.showError(error.field, message)) return;
      if (error.code === "BAD_USER_INPUT" && bulk.value.trim()) {
        show(bulkError, error.message);
        return;
      }
      if (error.code === "UNAUTHENTICATED") onError(error);
      else show(formError, error.message);
    }
  });
}
