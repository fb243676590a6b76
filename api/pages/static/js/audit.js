/* 审计: a contestant's history with an as-of control, the reads of personal data, and the audit trail. */
"use strict";
(function () {
  const { api, el, label, time, message, catalogue } = window.ZY;
  const root = document.getElementById("audit");
  const cid = root.dataset.cid;
  const statusLine = document.getElementById("audit-status");
  const say = (text, ok) => { statusLine.textContent = text; statusLine.className = `status-line ${ok === false ? "bad" : "ok"}`; };
  const READS = new Set(["PersonalDataRead", "PersonalDataReadRefused"]);
  let entries = [];
  let contestant = "";

  const STATE_FIELDS = [["name", "姓名"], ["city", "市州"], ["group", "组别"], ["channel", "渠道"], ["status", "状态"],
    ["platform", "平台"], ["account", "账号"], ["id_number", "身份证号"], ["mobile", "手机"], ["training_account", "培训账号"],
    ["results", "成绩"], ["team_role", "代表队角色"], ["award", "奖项"], ["version", "版本"]];
  const KINDS = { group: "groups", channel: "channels", status: "statuses", platform: "platforms", team_role: "team_roles" };

  function show(value, key) {
    if (value === null || value === undefined || value === "") return "—";
    if (KINDS[key]) return label(KINDS[key], value);
    if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${label("scores", k)} ${v}`).join("，");
    return String(value);
  }

  async function loadHistory(id) {
    contestant = id;
    try {
      const [history, reads] = await Promise.all([
        api("GET", `/api/contestants/${id}/history`),
        api("GET", `/api/contestants/${id}/pii-reads`).catch((p) => ({ data: null, problem: p })),
      ]);
      entries = history.data.filter((e) => !READS.has(e.type));  // the reads are listed beside
      const slider = document.getElementById("asof");
      slider.max = String(entries.length - 1);
      slider.value = String(entries.length - 1);
      renderTimeline();
      const body = document.querySelector("#reads-table tbody");
      if (reads.data) {
        body.replaceChildren(...(reads.data.length ? reads.data.map((r) => el("tr", { class: r.refused ? "refused" : "" }, el("td", {}, time(r.at)), el("td", {}, r.user),
          el("td", {}, label("roles", r.role)), el("td", {}, r.fields.map((f) => catalogue.fields[f] || f).join("、")),
          el("td", {}, r.refused ? "已拒绝" : "已查看")))
          : [el("tr", {}, el("td", { colspan: 5 }, "无查看记录"))]));
      } else {
        body.replaceChildren(el("tr", {}, el("td", { colspan: 5 }, message(reads.problem))));
      }
      document.getElementById("history").hidden = false;
      await showAsOf();
      say(`共 ${entries.length} 条决定`);
    } catch (problem) { say(message(problem), false); }
  }

  function renderTimeline() {
    const upto = Number(document.getElementById("asof").value);
    document.getElementById("timeline").replaceChildren(...entries.map((e, i) => el("li", { class: i > upto ? "later" : "", dataset: { version: e.version } },
      el("div", {}, el("span", { class: "what" }, label("events", e.type)), " ", el("span", { class: "stamp" }, time(e.at))),
      el("dl", {},
        el("dt", {}, "操作人"), el("dd", {}, `${e.user || "—"}（${label("roles", e.role)}${e.city ? ` · ${e.city}` : ""}）`),
        el("dt", {}, "理由"), el("dd", {}, e.reason || "—"),
        el("dt", {}, "依据"), el("dd", {}, e.evidence || "—"),
        el("dt", {}, "规则版本"), el("dd", {}, e.rule_version ?? "—"),
        el("dt", {}, "变更"), el("dd", {}, Object.entries(e.changes).filter(([k]) => k !== "campaign_id").map(([k, [before, after]]) => `${catalogue.fields[k] || k}：${show(before, k)} → ${show(after, k)}`).join("；") || "—")))));
  }

  async function showAsOf() {
    const i = Number(document.getElementById("asof").value);
    const at = entries[i].at;
    document.getElementById("asof-label").textContent = `${time(at)}（第 ${i + 1} 条决定之后）`;
    renderTimeline();
    try {
      const { data } = await api("GET", `/api/contestants/${contestant}?as_of=${encodeURIComponent(at)}`);
      document.getElementById("state").replaceChildren(...STATE_FIELDS.flatMap(([k, t]) => [el("dt", {}, t), el("dd", { dataset: { field: k } }, show(data[k], k))]));
    } catch (problem) { say(message(problem), false); }
  }

  document.getElementById("asof").addEventListener("input", showAsOf);
  document.getElementById("history-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = document.getElementById("h-id").value.trim();
    if (id) { history.replaceState(null, "", `?contestant=${encodeURIComponent(id)}`); loadHistory(id); }
  });
  if (root.dataset.contestant) loadHistory(root.dataset.contestant);

  /* --- audit trail --- */
  const trailForm = document.getElementById("trail-form");
  let after = 0;
  function trailQuery() {
    const f = Object.fromEntries(new FormData(trailForm));
    const q = new URLSearchParams();
    for (const k of ["actor", "city", "type"]) if (f[k]) q.set(k, f[k]);
    for (const k of ["from", "to"]) if (f[k]) q.set(k, `${f[k]}:00+08:00`);
    return q;
  }
  function subjectCell(e) {
    const person = e.aggregate_type === "Contestant" ? e.aggregate_id : e.subject_id;  // a read: whose data
    if (!person) return e.aggregate_type;
    return el("a", { href: `?contestant=${person}`, onclick: (ev) => { ev.preventDefault(); document.getElementById("h-id").value = person; loadHistory(person); window.scrollTo(0, 0); } },
      e.fields ? `历史（${e.fields.map((f) => catalogue.fields[f] || f).join("、")}）` : "历史");
  }
  async function loadTrail(more) {
    const q = trailQuery();
    if (more) q.set("after", String(after));
    try {
      const { data } = await api("GET", `/api/campaigns/${cid}/audit?${q}`);
      const rows = data.entries.map((e) => el("tr", {}, el("td", {}, time(e.at)), el("td", {}, label("events", e.event_type)), el("td", {}, e.city || "—"),
        el("td", {}, e.actor_user), el("td", {}, label("roles", e.actor_role)), el("td", {}, e.reason || ""), el("td", {}, e.evidence || ""),
        el("td", { class: "n" }, e.rule_version ?? ""),
        el("td", {}, subjectCell(e))));
      const body = document.querySelector("#trail-table tbody");
      if (more) body.append(...rows); else body.replaceChildren(...rows);
      after = data.next_after || 0;
      document.getElementById("trail-more").hidden = !data.next_after;
      document.getElementById("trail-count").textContent = `已显示 ${body.children.length} 条`;
      const x = trailQuery();
      x.set("format", "csv"); document.getElementById("export-csv").href = `/api/campaigns/${cid}/audit?${x}`;
      x.set("format", "xlsx"); document.getElementById("export-xlsx").href = `/api/campaigns/${cid}/audit?${x}`;
    } catch (problem) { say(message(problem), false); }
  }
  trailForm.addEventListener("submit", (e) => { e.preventDefault(); loadTrail(false); });
  document.getElementById("trail-more").addEventListener("click", () => loadTrail(true));
  loadTrail(false);
})();
