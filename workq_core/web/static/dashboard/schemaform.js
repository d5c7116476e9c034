// A form for one item of a job type, generated from the type's input JSON Schema.
//
// Top-level properties become inputs: numbers and integers number fields,
// strings text fields (a select for `enum`), booleans checkboxes, anything
// else a JSON text area. The browser does not validate (`novalidate`): the
// API checks every item against the schema and its answer, which names the
// field, is shown beside that field. A schema without properties gets one
// JSON text area for the whole item.
import { h } from "/static/dashboard/dom.js";

/** { element, read() -> {item, errors}, showError(field, message), clear() } */
export function schemaForm(schema) {
  const properties = schema && typeof schema.properties === "object" ? schema.properties : null;
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  const fields = properties
    ? Object.entries(properties).map(([name, spec]) => field(name, spec || {}, required.has(name)))
    : [field("(item)", { description: "The item as a JSON object." }, true, "json")];
  const element = h("fieldset", { class: "schema-form" },
    h("legend", {}, "Item"), ...fields.map((f) => f.row));

  function read() {
    const errors = {};
    if (!properties) {
      const { value, error } = fields[0].read();
      if (error) errors["(item)"] = error;
      return { item: value ?? {}, errors };
    }
    const item = {};
    for (const f of fields) {
      const { value, error } = f.read();
      if (error) errors[f.name] = error;
      else if (value !== undefined) item[f.name] = value;
    }
    return { item, errors };
  }

  function byName(name) {
    const top = String(name).split(".")[0];
    return fields.find((f) => f.name === top) ?? null;
  }

  return {
    element,
    read,
    /** Show `message` at `fieldPath` ("a.b" shows at "a"); false when no such field. */
    showError(fieldPath, message) {
      const f = byName(fieldPath) ?? (properties ? null : fields[0]);
      if (!f) return false;
      f.showError(message);
      return true;
    },
    clear() {
      for (const f of fields) f.showError("");
    },
  };
}

function kindOf(spec) {
  const type = Array.isArray(spec.type) ? spec.type.find((t) => t !== "null") : spec.type;
  if (Array.isArray(spec.enum)) return "enum";
  if (type === "integer" || type === "number" || type === "string" || type === "boolean") return type;
  return "json";
}

function field(name, spec, isRequired, forcedKind = null) {
  const kind = forcedKind ?? kindOf(spec);
  const id = `field-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const input = control(kind, spec, id, name);
  const error = h("span", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true });
  input.setAttribute("aria-describedby", `${id}-error`);
  const hint = [spec.description, range(spec)].filter(Boolean).join(" ");
  const label = h("label", { for: id }, spec.title ?? name, isRequired ? h("span", { class: "required" }, " *") : null);
  const row = h("div", { class: "field", dataset: { field: name } },
    label, input, hint ? h("small", { class: "hint" }, hint) : null, error);

  return {
    name,
    row,
    read: () => readValue(kind, input),
    showError(message) {
      error.textContent = message;
      error.hidden = !message;
      row.classList.toggle("invalid", Boolean(message));
    },
  };
}

function control(kind, spec, id, name) {
  const common = { id, name };
  if (kind === "enum") {
    return h("select", common, h("option", { value: "" }, "—"),
      ...spec.enum.map((v) => h("option", { value: JSON.stringify(v), selected: spec.default === v }, String(v))));
  }
  if (kind === "boolean") return h("input", { ...common, type: "checkbox", checked: spec.default === true });
  if (kind === "integer" || kind === "number") {
    return h("input", { ...common, type: "number", step: kind === "integer" ? "1" : "any",
      value: spec.default ?? null, inputmode: kind === "integer" ? "numeric" : "decimal" });
  }
  if (kind === "string") return h("input", { ...common, type: "text", value: spec.default ?? null });
  const initial = spec.default !== undefined ? JSON.stringify(spec.default, null, 2) : "";
  const area = h("textarea", { ...common, rows: 4, spellcheck: "false" });
  area.value = initial;
  return area;
}

function range(spec) {
  const parts = [];
  if (spec.minimum !== undefined) parts.push(`min ${spec.minimum}`);
  if (spec.maximum !== undefined) parts.push(`max ${spec.maximum}`);
  return parts.length ? `(${parts.join(", ")})` : "";
}

/** {value} (undefined: leave the property out) or {error} for input the API could not even receive. */
function readValue(kind, input) {
  if (kind === "boolean") return { value: input.checked };
  const raw = input.value;
  if (raw.trim() === "") return { value: undefined };
  if (kind === "enum") return { value: JSON.parse(raw) };
  if (kind === "integer" || kind === "number") {
    const number = Number(raw);
    return Number.isFinite(number) ? { value: number } : { error: "Enter a number." };
  }
  if (kind === "string") return { value: raw };
  try {
    return { value: JSON.parse(raw) };
  } catch {
    return { error: "Not valid JSON." };
  }
}
