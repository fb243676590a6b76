/* 自主报名: the form posts to the public registration endpoint; the look-up to the status endpoint. */
"use strict";
(function () {
  const { api, el, label, showErrors, clearErrors, time, Problem } = window.ZY;
  const form = document.getElementById("registration");
  const receipt = document.getElementById("receipt");
  const cid = form.dataset.cid;
  const FIELD_OF_RULE = { duplicate_person: "id_number", duplicate_account: "account", group_not_allowed: "group" };
  let unsure = null; // { sent, key }: a registration whose outcome is not known to be a refusal

  /* a definite refusal (a 4xx, or a 503 saying it was not recorded) may take a new key; a lost
     connection, a 502/504 or a 500 may have recorded it: the same form is sent again under its key */
  function refused(problem) {
    if (!(problem instanceof Problem)) return false;
    if (problem.status >= 400 && problem.status < 500) return true;
    return problem.status === 503 && problem.body.outcome === "not_recorded";
  }

  function value(name) {
    const field = form.elements[name];
    return field ? String(field.value || "").trim() : "";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const followers = value("followers");
    const body = {
      name: value("name"), id_number: value("id_number").toUpperCase(), mobile: value("mobile"),
      city: value("city"), group: value("group"), platform: value("platform"), account: value("account"),
      followers: /^\d+$/.test(followers) ? Number(followers) : null,
    };
    if (value("experience")) body.experience = value("experience");
    if (value("notes")) body.notes = value("notes");
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      // the same registration sent again after "may have been recorded" carries the same key
      const sent = JSON.stringify(body);
      if (!unsure || unsure.sent !== sent) unsure = { sent, key: crypto.randomUUID() };
      const answer = await api("POST", `/api/campaigns/${cid}/registrations`, body, { "Idempotency-Key": unsure.key });
      unsure = null;
      receipt.replaceChildren();
      const code = answer.data && (answer.data.receipt || answer.data.id);
      if (code) {
        receipt.append(
          el("h3", {}, "报名已受理"),
          el("p", {}, answer.data.message || "已收到报名，审核后通知结果"),
          el("p", {}, "请保存以下回执码，凭回执码和身份证号码查询报名状态："),
          el("p", { class: "code", id: "receipt-code" }, code),
          el("p", { class: "hint" }, "如您此前已报名，请使用首次报名时获得的回执码查询状态。"),
        );
        document.getElementById("l-receipt").value = code;
      } else {
        receipt.append(
          el("h3", {}, "报名已受理"),
          el("p", {}, "我们已收到您的报名信息。如您此前已报名，请使用首次报名时获得的回执码查询状态。"),
        );
      }
      form.hidden = true;
      receipt.hidden = false;
      receipt.focus();
    } catch (problem) {
      if (refused(problem)) unsure = null;
      showErrors(form, problem, document.getElementById("form-error"), FIELD_OF_RULE);
    } finally {
      button.disabled = form.dataset.open !== "yes";
    }
  });

  const lookup = document.getElementById("lookup");
  const result = document.getElementById("lookup-result");
  lookup.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(lookup);
    result.hidden = true;
    const body = { receipt: lookup.elements.receipt.value.trim(), id_number: lookup.elements.id_number.value.trim().toUpperCase() };
    try {
      const answer = await api("POST", `/api/campaigns/${cid}/registrations/status`, body);
      result.replaceChildren(
        el("p", {}, "报名状态：", el("strong", { id: "own-status" }, label("statuses", answer.data.status))),
        el("p", { class: "hint" }, "更新时间：", time(answer.data.changed_at)),
      );
      result.hidden = false;
    } catch (problem) {
      showErrors(lookup, problem, document.getElementById("lookup-error"), {});
    }
  });
})();
