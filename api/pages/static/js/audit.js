/* 审计: a contestant's history with an as-of control, the reads of personal data, the audit trail,
   and the provable history (the background chain verification, the signed checkpoints). */
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
  const TRAIL_PAGE = 100;  /* the rest on 更多; the exports hold everything */
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
    if (!person) return label("subjects", e.aggregate_type);
    return el("a", { href: `?contestant=${person}`, onclick: (ev) => { ev.preventDefault(); document.getElementById("h-id").value = person; loadHistory(person); window.scrollTo(0, 0); } },
      e.fields ? `历史（${e.fields.map((f) => catalogue.fields[f] || f).join("、")}）` : "历史");
  }
  async function loadTrail(more) {
    const q = trailQuery();
    q.set("limit", String(TRAIL_PAGE));
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

  /* --- the provable history: the background verification and the signed checkpoints --- */
  const BREAKS = { "changed": "事件内容被改动", "reordered": "事件顺序被调换", "missing": "事件缺失", "inserted": "被插入了事件",
    "hash altered": "哈希值被改动", "rewritten": "哈希链被重写", "truncated": "事件被截断（少于已签名存证点的数量）",
    "forged checkpoint": "存证点签名无效", "not sealed": "该库尚未封存（请运行 zhanyou seal）" };
  const short = (hex) => (hex ? `${hex.slice(0, 12)}…${hex.slice(-6)}` : "—");
  const count = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString("zh-CN"));
  function reasonText(reason) {
    const edge = /^campaign [0-9a-f-]+: (\w+) (opens|closes)$/.exec(reason || "");
    if (edge) return `${label("phases", edge[1])}${edge[2] === "opens" ? "开始" : "结束"}`;
    return { "on demand": "手动存证", "sealed": "封存后存证" }[reason] || reason || "—";
  }
  let polling = null;
  async function loadVerification(fresh) {
    const state = document.getElementById("verify-state");
    const bar = document.getElementById("verify-progress");
    try {
      const { data } = await api("GET", `/api/audit/verify${fresh ? "?fresh=true" : ""}`);
      const facts = [["开始时间", time(data.started_at)], ["完成时间", time(data.finished_at)], ["已校验事件", `${count(data.done)} / ${count(data.total)}`]];
      if (data.state === "running") {
        bar.hidden = false; bar.max = data.total || 1; bar.value = data.done || 0;
        state.textContent = `校验进行中：已校验 ${count(data.done)} / ${count(data.total)} 条事件`;
        state.className = "verify";
      } else if (data.state === "done" && data.ok) {
        bar.hidden = false; bar.max = data.count || 1; bar.value = data.count || 1;
        state.textContent = `校验通过：${count(data.count)} 条事件的哈希链完整，${count(data.checkpoints)} 个签名存证点均有效`;
        state.className = "verify ok";
        facts.push(["链头哈希", short(data.head)]);
      } else if (data.state === "done") {
        bar.hidden = true;
        const b = data.broken || {};
        state.textContent = `发现异常：${BREAKS[b.kind] || b.kind || "未知"}（第 ${count(b.position)} 条事件${b.notification_id ? `，通知号 ${b.notification_id}` : ""}）`;
        state.className = "verify bad";
        if (b.detail) facts.push(["说明", b.detail]);
      } else if (data.state === "failed") {
        bar.hidden = true;
        state.textContent = "校验未能完成，请稍后重试或联系技术人员";
        state.className = "verify bad";
      }
      document.getElementById("verify-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
      clearTimeout(polling);
      if (data.state === "running") polling = setTimeout(() => loadVerification(false), 1000);
    } catch (problem) { state.textContent = message(problem); state.className = "verify bad"; }
  }
  async function loadCheckpoints() {
    try {
      const { data } = await api("GET", "/api/audit/checkpoints");
      document.getElementById("public-key").textContent = data.public_key ? `本库签名公钥（Ed25519）：${data.public_key}` : "本服务未持有签名密钥";
      const rows = data.checkpoints.slice().reverse().map((c, i) => el("tr", {},
        el("td", { class: "n" }, data.checkpoints.length - i), el("td", {}, time(c.instant)), el("td", { class: "n" }, count(c.count)),
        el("td", {}, el("code", { title: c.head }, short(c.head))), el("td", {}, reasonText(c.reason)), el("td", {}, c.signer)));
      document.querySelector("#checkpoints-table tbody").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 6 }, "尚无签名存证点"))]));
    } catch (problem) { say(message(problem), false); }
  }
  document.getElementById("verify-again").addEventListener("click", () => loadVerification(true));
  loadVerification(false);
  loadCheckpoints();
})();
