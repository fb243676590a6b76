/* 领导看板: counts only, from the views' JSON routes; refreshed when the log moves on. */
"use strict";
(function () {
  const { api, el, label, time, until, catalogue, message } = window.ZY;
  const root = document.getElementById("dashboard");
  const cid = root.dataset.cid;
  const GROUP_COLOURS = { trainee: "#a8071a", veteran: "#0a4fa3", family: "#8a4b00" };
  const charts = {};
  let seen = -1;
  let boundaries = [];

  function chart(id) {
    if (!window.echarts) return null;
    if (!charts[id]) charts[id] = window.echarts.init(document.getElementById(id), null, { renderer: "svg" });
    return charts[id];
  }
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));

  async function load(position) {
    const q = position >= 0 ? `?min_position=${position}` : "";
    const base = `/api/campaigns/${cid}`;
    const [campaign, quotas, funnel, teams, stats] = await Promise.all([
      api("GET", base), api("GET", `${base}/quotas${q}`), api("GET", `${base}/funnel${q}`),
      api("GET", `${base}/teams${q}`), api("GET", `${base}/statistics${q}`),
    ]);
    render(campaign.data, quotas.data, funnel.data, teams.data, stats.data);
    document.getElementById("updated").textContent = time(new Date().toISOString());
  }

  function render(campaign, quotas, funnel, teams, stats) {
    for (const stage of Object.keys(catalogue.stages)) {
      const n = funnel.rows.reduce((sum, row) => sum + (row.reached[stage] || 0), 0);
      root.querySelector(`[data-headline="${stage}"]`).textContent = n.toLocaleString("zh-CN");
    }
    renderPhases(campaign);
    renderQuotas(quotas);
    renderTeams(teams);
    const share = funnel.trainee_share;
    document.getElementById("trainee-share").textContent = share === null ? "暂无决赛选手" : `${(share * 100).toFixed(1)}%`;
    document.getElementById("finalists").textContent = `决赛选手 ${funnel.finalists} 人，其中学员 ${funnel.trainee_finalists} 人`;
    renderCharts(funnel, stats);
  }

  function renderPhases(campaign) {
    const list = document.getElementById("phases");
    list.replaceChildren();
    boundaries = [];
    for (const [code, w] of Object.entries(campaign.timeline)) {
      list.append(el("li", { dataset: { phase: code } },
        el("span", { class: "ph-name" }, label("phases", code)),
        el("span", { class: "ph-dates" }, w.opens ? `${time(w.opens)} 至 ${until(w.closes)}` : "未公布"),
        el("span", { class: `state ${w.status}` }, label("phase_statuses", w.status))));
      /* each instant shown as the timeline beside it shows it: an end at midnight is that day's 24:00 */
      if (w.opens) boundaries.push({ at: new Date(w.opens), text: `${label("phases", code)}开始`, shown: time(w.opens) });
      if (w.closes) boundaries.push({ at: new Date(w.closes), text: `${label("phases", code)}结束`, shown: until(w.closes) });
    }
    boundaries.sort((a, b) => a.at - b.at);
    tick();
  }

  function tick() {
    const now = new Date();
    const next = boundaries.find((b) => b.at > now);
    const box = document.getElementById("countdown");
    if (!next) { box.textContent = "所有环节均已结束"; return; }
    let s = Math.floor((next.at - now) / 1000);
    const d = Math.floor(s / 86400); s %= 86400;
    const h = Math.floor(s / 3600); s %= 3600;
    const m = Math.floor(s / 60); s %= 60;
    box.textContent = `距${next.text}还有 ${d}天${h}小时${m}分${s}秒（${next.shown}）`;
  }
  setInterval(tick, 1000);

  function renderQuotas(quotas) {
    const byCity = new Map();
    for (const q of quotas.quotas) {
      if (!byCity.has(q.city)) byCity.set(q.city, {});
      byCity.get(q.city)[q.group] = q;
    }
    const tiles = document.getElementById("quota-tiles");
    tiles.replaceChildren();
    for (const city of catalogue.cities) {
      const groups = byCity.get(city) || {};
      const tile = el("li", { class: "tile", dataset: { city } }, el("div", { class: "city" }, city));
      for (const group of ["trainee", "veteran"]) {
        const q = groups[group];
        if (!q) continue;
        const pct = q.quota ? Math.min(100, Math.round((q.recommended / q.quota) * 100)) : 0;
        tile.append(
          el("div", {}, `${label("groups", group)} `, el("span", { dataset: { fill: group } }, `${q.recommended}/${q.quota}`), `（审核 ${q.verified}）`),
          el("div", { class: "bar", role: "presentation" }, el("span", { dataset: { pct } })));
      }
      tiles.append(tile);
    }
    for (const bar of tiles.querySelectorAll(".bar > span")) bar.style.width = `${bar.dataset.pct}%`;
  }

  function renderTeams(teams) {
    const byCity = new Map(teams.teams.map((t) => [t.city, t]));
    const tiles = document.getElementById("team-tiles");
    tiles.replaceChildren();
    let complete = 0;
    for (const city of catalogue.cities) {
      const t = byCity.get(city);
      if (t && t.complete) complete += 1;
      const state = !t ? "尚未组队" : t.complete ? "已满员" : "未满员";
      tiles.append(el("li", { class: `tile ${t ? (t.complete ? "complete" : "incomplete") : ""}`, dataset: { city, team: state } },
        el("div", { class: "city" }, city),
        el("div", {}, state, t ? `：主播 ${t.streamers.length} 人${t.assistant ? "，助理 1 人" : ""}` : "")));
    }
    document.getElementById("teams-summary").textContent = `已满员 ${complete} / ${catalogue.cities.length} 个市州`;
  }

  function renderCharts(funnel, stats) {
    const stages = Object.keys(catalogue.stages);
    const groups = Object.keys(catalogue.groups);
    const reached = (g, s) => funnel.rows.filter((r) => r.group === g).reduce((n, r) => n + (r.reached[s] || 0), 0);
    /* the charts' numbers as tables too, for screen readers and for copying */
    document.getElementById("funnel-table").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, "组别"), stages.map((s) => el("th", { class: "n" }, catalogue.stages[s])))),
      el("tbody", {}, groups.map((g) => el("tr", {}, el("td", {}, catalogue.groups[g]), stages.map((s) => el("td", { class: "n" }, reached(g, s)))))));
    document.getElementById("daily-table").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, "日期"), el("th", { class: "n" }, "报名人数"))),
      el("tbody", {}, stats.daily.map((x) => el("tr", {}, el("td", {}, x.day), el("td", { class: "n" }, x.count)))));
    const f = chart("chart-funnel");
    if (f) f.setOption({ animation: false,
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 10, top: 30, bottom: 30 },
      xAxis: { type: "category", data: stages.map((s) => catalogue.stages[s]) }, yAxis: { type: "value" },
      series: groups.map((g) => ({
        name: catalogue.groups[g], type: "bar", itemStyle: { color: GROUP_COLOURS[g] },
        data: stages.map((s) => reached(g, s)),
      })),
    }, true);
    const d = chart("chart-daily");
    if (d) d.setOption({ animation: false,
      tooltip: { trigger: "axis" }, grid: { left: 40, right: 10, top: 20, bottom: 30 },
      xAxis: { type: "category", data: stats.daily.map((x) => x.day) }, yAxis: { type: "value" },
      series: [{ name: "报名人数", type: "bar", itemStyle: { color: "#a8071a" }, data: stats.daily.map((x) => x.count) }],
    }, true);
    const narrow = window.innerWidth < 600;  /* on a phone the counts go in the legend, not beside the ring */
    const pie = (id, counts, kind, colours) => {
      const c = chart(id);
      const named = Object.fromEntries(Object.entries(counts).map(([k, v]) => [label(kind, k), v]));
      if (c) c.setOption({ animation: false,
        tooltip: { trigger: "item" }, legend: { bottom: 0, formatter: (name) => `${name} ${named[name]}人` },
        series: [{ type: "pie", radius: ["35%", "65%"], label: { show: !narrow, formatter: "{b}\n{c}人 ({d}%)" },
          data: Object.entries(counts).map(([k, v]) => ({ name: label(kind, k), value: v, itemStyle: colours ? { color: colours[k] } : undefined })) }],
      }, true);
    };
    pie("chart-platforms", stats.platforms, "platforms", { douyin: "#1a1a1a", kuaishou: "#d46b08" });
    pie("chart-groups", stats.groups, "groups", GROUP_COLOURS);
  }

  async function poll() {
    try {
      const ready = await api("GET", "/readyz");
      const head = ready.data.last_notification_id;
      if (head !== seen) {
        await load(head);
        seen = head;
      }
      document.getElementById("dash-error").textContent = "";
    } catch (problem) {
      document.getElementById("dash-error").textContent = message(problem);
    }
  }
  poll();
  setInterval(() => { if (!document.hidden) poll(); }, 15000);
})();
