/* Shared by every page: the Chinese catalogue, the CSRF token, JSON calls that speak problem+json. */
"use strict";
window.ZY = (function () {
  const catalogue = JSON.parse(document.getElementById("catalogue").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const TZ = "Asia/Shanghai";

  class Problem extends Error {
    constructor(status, body) {
      super(body.title || catalogue.rules[body.rule] || "操作未能完成");
      this.status = status;
      this.body = body;
      this.rule = body.rule || "";
      this.errors = body.errors || [];
    }
  }

  async function api(method, path, body, headers) {
    const init = { method, headers: Object.assign({ "Accept": "application/json", "Accept-Language": "zh-CN" }, headers || {}), credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrf;
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
    if (!response.ok) throw new Problem(response.status, data || {});
    return { status: response.status, data, headers: response.headers };
  }

  function message(problem) {
    if (problem instanceof Problem) {
      // a 503 of a command says whether it may be on record
      const outcome = problem.rule === "store_unavailable" && catalogue.store_outcomes[problem.body.outcome];
      return outcome || catalogue.rules[problem.rule] || problem.message;
    }
    return "网络异常，请稍后重试";
  }

  const dateTime = new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  function time(iso) {
    if (!iso) return "—";
    const parts = {};
    for (const p of dateTime.formatToParts(new Date(iso))) parts[p.type] = p.value;
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour === "24" ? "00" : parts.hour}:${parts.minute}`;
  }

  /* an exclusive end as people say it: 2021-06-11 00:00 is 2021-06-10 24:00 */
  function until(iso) {
    if (!iso) return "不限";
    const shown = time(iso);
    if (!shown.endsWith(" 00:00")) return shown;
    return `${time(new Date(new Date(iso).getTime() - 60000).toISOString()).slice(0, 10)} 24:00`;
  }

  /* el("td", {class: "n"}, "text", child...) — text is always text, never HTML */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* a bad field's English detail in Chinese, by the catalogue's (field, piece, message) list */
  function fieldMessage(field, detail) {
    const leaf = String(field).split(".").pop();
    const lowered = String(detail).toLowerCase();
    for (const [name, piece, text] of catalogue.field_details) if (name === leaf && lowered.includes(piece)) return text;
    return `${catalogue.fields[leaf] || leaf}填写有误`;
  }

  /* a refusal named by rule and detail (as an import row reports it), in Chinese */
  function explain(rule, detail) {
    if (rule === "invalid_value" && detail) {
      return detail.replace(/^invalid_value:\s*/, "").split("; ").map((part) => {
        const at = part.indexOf(": ");
        return at > 0 ? fieldMessage(part.slice(0, at), part.slice(at + 2)) : part;
      }).join("；");
    }
    return catalogue.rules[rule] || detail || rule;
  }

  function label(kind, value) { return (catalogue[kind] && catalogue[kind][value]) || value || "—"; }

  /* show every field error of a problem at once, each beside its field; the rest above the button */
  function showErrors(form, problem, formError, fieldOfRule) {
    clearErrors(form);
    let shown = false;
    const unplaced = [];
    const fieldErrors = problem instanceof Problem ? problem.errors : [];
    for (const e of fieldErrors) {
      const leaf = String(e.field).split(".").pop();
      if (markField(form, leaf, e.detail)) shown = true;
      else unplaced.push(e.detail);
    }
    if (problem instanceof Problem && fieldOfRule && fieldOfRule[problem.rule]) {
      if (markField(form, fieldOfRule[problem.rule], message(problem))) shown = true;
    }
    if (formError && unplaced.length) formError.textContent = unplaced.join("；");
    else if (!shown && formError) formError.textContent = message(problem);
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  function markField(form, name, text) {
    const slot = form.querySelector(`[data-error-for="${name}"]`);
    if (!slot) return false;
    slot.textContent = text;
    for (const input of form.querySelectorAll(`[name="${name}"]`)) input.setAttribute("aria-invalid", "true");
    return true;
  }

  function clearErrors(form) {
    for (const slot of form.querySelectorAll("[data-error-for], .form-error")) slot.textContent = "";
    for (const input of form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
  }

  return { catalogue, csrf, api, Problem, message, time, until, explain, el, label, showErrors, clearErrors, markField };
})();
