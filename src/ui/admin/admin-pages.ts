import type { OutboxEntry } from "../../core/link-outbox.js";
import { type DailyVisits, type SharingSignals, uncountedVisits } from "../../core/sharing.js";
import type { Visitor, VisitorLog } from "../../core/visitor.js";
import {
  type ListParams,
  listQuery,
  type SharingParams,
  sharingQuery,
} from "../../features/admin/admin-query.js";
import { html, type SafeHtml } from "../html.js";
import { page } from "../layout.js";
import { visitsChart } from "./admin-chart.js";
import { ADMIN_STYLES } from "./admin-styles.js";

/** Where the admin is mounted and which section a page belongs to. */
export interface Frame {
  mount: string;
  title: string;
  current: "passes" | "sharing" | "logs" | "outbox" | null;
  /** Whether the development outbox is on (its page is then in the navigation). */
  outbox: boolean;
}

export interface ListView {
  frame: Frame;
  params: ListParams;
  pageSize: number;
  visitors: readonly Visitor[];
  /** Visits per pass id. */
  visits: ReadonlyMap<number, number>;
  /** All passes matching the filters. */
  total: number;
  hasOlder: boolean;
  chart: readonly DailyVisits[];
  notice: string | null;
}

export interface PassView {
  frame: Frame;
  visitor: Visitor;
  /** The pass's link, or `null` when only a digest of its token is stored. */
  link: string | null;
  logs: readonly VisitorLog[];
  totalLogs: number;
  /** `null` when the pass went away while the page was being made. */
  sharing: SharingSignals | null;
  chart: readonly DailyVisits[];
  notice: string | null;
  /**
   * Whether to offer "Reactivate": never for a pending request, nor for an active pass whose link
   * works longer than reactivating would give it (that would only shorten it).
   */
  reactivatable: boolean;
}

export interface SharingView {
  frame: Frame;
  params: SharingParams;
  rows: readonly SharingSignals[];
  hasMore: boolean;
  pageSize: number;
}

/** A pass's page, by its id: never by its token, which would reach every request log. */
export function passPath(mount: string, id: number): string {
  return `${mount}/passes/${id}`;
}

/** A whole admin page: the header with the sections, then `body`. */
export function document(frame: Frame, title: string, body: SafeHtml): string {
  const link = (section: Exclude<Frame["current"], null>, label: string, href: string) =>
    html`<a href="${href}"${frame.current === section ? html` aria-current="page"` : ""}>${label}</a>`;
  const header = html`<header class="admin-head">
<a class="brand" href="${frame.mount}/">${frame.title}</a>
<nav aria-label="Sections">${link("passes", "Passes", `${frame.mount}/`)}${link("sharing", "Sharing", `${frame.mount}/sharing`)}${link("logs", "Visit logs", `${frame.mount}/logs`)}${frame.outbox ? link("outbox", "Outbox", `${frame.mount}/outbox`) : ""}</nav>
</header>`;
  return page(`${title} · ${frame.title}`, html`${header}${body}`, {
    wide: true,
    styles: ADMIN_STYLES,
  });
}

/** A page that only says something: an error, a refusal. `frame` null shows no navigation. */
export function messagePage(frame: Frame | null, title: string, messages: readonly string[]) {
  const body = html`<h1>${title}</h1>
<section class="card">${messages.map((m) => html`<p>${m}</p>`)}${
    frame ? html`<p><a href="${frame.mount}/">Back to the passes</a></p>` : ""
  }</section>`;
  if (frame) return document(frame, title, body);
  return page(title, body, { wide: true, styles: ADMIN_STYLES });
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** A moment as `2026-11-25 17:52` UTC in a `<time>`; `empty` when there is none. */
export function when(value: Date | string | null | undefined, empty = "—"): SafeHtml {
  if (value === null || value === undefined) return html`<span class="muted">${empty}</span>`;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return html`${String(value)}`;
  const shown = `${date.getUTCFullYear()}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}`;
  return html`<time datetime="${date.toISOString()}">${shown}</time>`;
}

/**
 * One badge per state the pass is in, each saying what it means: a pending self-service request
 * alone, or active/inactive, then expired and used up where they apply.
 */
function status(visitor: Visitor): SafeHtml {
  if (visitor.isUnclaimedRequest) return html`<span class="badge">Pending request</span>`;
  if (visitor.isPromoted) return html`<span class="badge ok">Promoted</span>`;
  const usedUp = visitor.maxUses !== null && visitor.uses >= visitor.maxUses;
  return html`<span class="badges">${
    visitor.isActive
      ? html`<span class="badge ok">Active</span>`
      : html`<span class="badge">Inactive</span>`
  }${visitor.hasExpired ? html` <span class="badge warn">Expired</span>` : ""}${
    usedUp ? html` <span class="badge warn">Used up</span>` : ""
  }</span>`;
}

function uses(visitor: Visitor): string {
  return visitor.maxUses === null ? String(visitor.uses) : `${visitor.uses} / ${visitor.maxUses}`;
}

/** "promoted to <userId> on <date>", escaped, for a promoted pass; nothing otherwise. */
export function promotion(visitor: Visitor): SafeHtml {
  if (visitor.promotedTo === null) return html``;
  return html`promoted to <code class="user-id">${visitor.promotedTo}</code> on ${when(visitor.promotedAt)}`;
}

export function notice(text: string | null): SafeHtml {
  return text ? html`<p class="notice" role="status">${text}</p>` : html``;
}

export function pager(
  newer: string | null,
  older: string | null,
  summary: string,
  label: string,
): SafeHtml {
  return html`<nav class="pager" aria-label="${label}">
${newer ? html`<a rel="prev" href="${newer}">← Newer</a>` : html`<span class="gone" aria-hidden="true">← Newer</span>`}
<span class="muted">${summary}</span>
${older ? html`<a rel="next" href="${older}">Older →</a>` : html`<span class="gone" aria-hidden="true">Older →</span>`}
</nav>`;
}

function option(value: string, label: string, current: string): SafeHtml {
  return html`<option value="${value}"${value === current ? html` selected` : ""}>${label}</option>`;
}

function triSelect(
  name: string,
  label: string,
  value: boolean | undefined,
  words: [string, string],
) {
  const current = value === undefined ? "" : value ? "yes" : "no";
  return html`<label>${label}<select name="${name}">${option("", "Any", current)}${option("yes", words[0], current)}${option("no", words[1], current)}</select></label>`;
}

export function listPage(view: ListView): string {
  const { frame, params } = view;
  const base = `${frame.mount}/`;
  const filtered =
    params.q !== "" ||
    params.scope !== "" ||
    params.active !== undefined ||
    params.valid !== undefined ||
    params.promoted !== undefined;
  const first = (params.page - 1) * view.pageSize;
  const pages = Math.max(1, Math.ceil(view.total / view.pageSize));
  const shown = view.visitors.length
    ? `${first + 1}–${first + view.visitors.length} of ${view.total}`
    : `none of ${view.total}`;
  const summary = `Page ${params.page} of ${pages} · ${shown} · times in UTC`;

  const rows = view.visitors.map((v) => {
    const name = v.fullName;
    const visits = view.visits.get(v.id) ?? 0;
    return html`<tr>
<td class="select">${
      // Nothing to do with an unclaimed request: it is off, and must never be turned on.
      v.isUnclaimedRequest
        ? ""
        : html`<input type="checkbox" name="id" value="${v.id}" aria-label="Select ${v.email}">`
    }</td>
<td class="who wrap email"><a href="${passPath(frame.mount, v.id)}">${v.email || "(no email yet)"}</a>${name ? html`<span class="sub">${name}</span>` : ""}</td>
<td class="wrap span2" data-label="Scope">${v.scope}</td>
<td class="nowrap span2" data-label="Created">${when(v.createdAt)}</td>
<td class="nowrap span2" data-label="Expires">${when(v.expiresAt, "never")}</td>
<td data-label="Status">${status(v)}${v.isPromoted ? html`<span class="sub">${promotion(v)}</span>` : ""}</td>
<td class="num" data-label="Uses">${uses(v)}</td>
<td class="num" data-label="Visits">${visits}</td>
</tr>`;
  });

  const table = html`<div class="table-wrap"><table class="data cards passes">
<caption class="visually-hidden">Passes, newest first</caption>
<thead><tr><th scope="col"><span class="visually-hidden">Select</span></th><th scope="col">Email</th><th scope="col">Scope</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Status</th><th scope="col" class="num">Uses</th><th scope="col" class="num">Visits</th></tr></thead>
<tbody>${
    rows.length
      ? rows
      : html`<tr><td colspan="8" class="empty">${
          params.page > 1
            ? html`No passes on this page. <a href="${base}${listQuery(params, { page: 1 })}">Go to the first page</a>.`
            : filtered
              ? "No passes match these filters."
              : "No passes yet."
        }</td></tr>`
  }</tbody>
</table></div>`;

  const body = html`<h1>Passes</h1>
${notice(view.notice)}
<section class="card" aria-labelledby="chart-heading">
<h2 id="chart-heading">Visits, last 30 days</h2>
${visitsChart(view.chart, { id: "visits-chart", caption: "Visits per day to all passes, last 30 days" })}
</section>
<section class="card" aria-labelledby="list-heading">
<h2 id="list-heading" class="visually-hidden">All passes</h2>
<form class="filters" method="get" action="${base}" role="search">
<label class="search">Search<input type="search" name="q" value="${params.q}" placeholder="Name, email or scope" maxlength="200"></label>
<label>Scope<input type="text" name="scope" value="${params.scope}" maxlength="100"></label>
${triSelect("active", "Active", params.active, ["Active", "Inactive"])}
${triSelect("valid", "Valid", params.valid, ["Valid", "Not valid"])}
${triSelect("promoted", "Promoted", params.promoted, ["Promoted", "Not promoted"])}
<div class="buttons"><button type="submit">Filter</button>${filtered ? html`<a href="${base}">Clear</a>` : ""}</div>
</form>
<form method="post" action="${frame.mount}/bulk">
<input type="hidden" name="return" value="${listQuery(params)}">
<div class="bulk"><button type="submit" name="action" value="deactivate" class="danger">Deactivate selected</button><button type="submit" name="action" value="reactivate" class="secondary">Reactivate selected</button></div>
${table}
</form>
${pager(
  params.page > 1 ? `${base}${listQuery(params, { page: params.page - 1 })}` : null,
  view.hasOlder ? `${base}${listQuery(params, { page: params.page + 1 })}` : null,
  summary,
  "Pass list pages",
)}
</section>`;
  return document(frame, "Passes", body);
}

function field(label: string, value: unknown): SafeHtml {
  return html`<dt>${label}</dt><dd>${value}</dd>`;
}

function actionButton(frame: Frame, visitor: Visitor, action: "deactivate" | "reactivate") {
  const label = action === "deactivate" ? "Deactivate" : "Reactivate";
  const cls = action === "deactivate" ? "danger" : visitor.isActive ? "secondary" : "";
  return html`<form method="post" action="${passPath(frame.mount, visitor.id)}/${action}"><button type="submit" class="${cls}">${label}</button></form>`;
}

function sharingSection(signals: SharingSignals | null): SafeHtml {
  if (signals === null) return html`<p class="muted">—</p>`;
  if (signals.visits === 0) return html`<p class="muted">No visits to judge from yet.</p>`;
  const notes = uncountedVisits(signals);
  return html`<dl class="fields">
${field("Flagged", signals.flagged ? html`<span class="badge warn">Possibly shared</span>` : html`<span class="badge ok">No</span>`)}
${
  signals.reasons.length
    ? field(
        "Reasons",
        html`<ul class="reasons">${signals.reasons.map((r) => html`<li>${r}</li>`)}</ul>`,
      )
    : ""
}
${field("Visits", signals.visits)}
${field("Sessions", signals.sessions)}
${field("Networks", signals.networks)}
${field("Browsers", signals.browsers)}
${notes.length ? field("Not counted", html`<ul class="reasons">${notes.map((n) => html`<li>${n}</li>`)}</ul>`) : ""}
${field("First visit", when(signals.firstVisit, "none"))}
${field("Last visit", when(signals.lastVisit, "none"))}
</dl>`;
}

function requestPath(log: VisitorLog): string {
  return log.queryString ? `${log.requestUri}?${log.queryString}` : log.requestUri;
}

function visitsTable(view: PassView): SafeHtml {
  if (view.totalLogs === 0) return html`<p class="muted">No visits yet.</p>`;
  const rows = view.logs.map(
    (log) => html`<tr>
<td class="nowrap">${when(log.timestamp)}</td>
<td class="nowrap">${log.remoteAddr ?? "—"}</td>
<td class="wrap long">${log.httpUserAgent ?? "—"}</td>
<td class="anywhere">${log.httpReferer ?? "—"}</td>
<td class="anywhere">${log.httpMethod === "GET" ? "" : `${log.httpMethod} `}${requestPath(log)}</td>
<td class="num">${log.statusCode ?? "—"}</td>
</tr>`,
  );
  return html`${
    view.totalLogs > view.logs.length
      ? html`<p class="muted">The latest ${view.logs.length} of ${view.totalLogs} visits.</p>`
      : ""
  }<div class="table-wrap"><table class="data visits">
<caption class="visually-hidden">Visits, newest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Address</th><th scope="col">User agent</th><th scope="col">Referer</th><th scope="col">Path</th><th scope="col" class="num">Status</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

export function passPage(view: PassView): string {
  const { frame, visitor: v } = view;
  const heading = v.fullName || v.email || "Pass";
  const context = v.context === null ? null : JSON.stringify(v.context, null, 2);
  const body = html`<p class="crumbs"><a href="${frame.mount}/">← All passes</a></p>
<h1>${heading} ${status(v)}</h1>
${notice(view.notice)}
<div class="actions">${v.isActive ? actionButton(frame, v, "deactivate") : ""}${view.reactivatable ? actionButton(frame, v, "reactivate") : ""}</div>
<div class="grid">
<section class="card" aria-labelledby="details-heading">
<h2 id="details-heading">Details</h2>
<dl class="fields">
${field("Email", v.email || "—")}
${field("First name", v.firstName || "—")}
${field("Last name", v.lastName || "—")}
${field("Scope", v.scope)}
${field("Created", when(v.createdAt))}
${field("Last updated", when(v.lastUpdatedAt))}
${field("Link expires", when(v.expiresAt, "never"))}
${field("Active", v.isActive ? "yes" : "no")}
${field("Valid", v.isUnclaimedRequest ? "no: a self-service request whose form was never completed" : v.isPromoted ? "no: promoted to an account" : v.isValid ? "yes" : v.isActive ? "no: the link has expired" : "no: deactivated")}
${v.isPromoted ? field("Promoted", html`<span class="promotion">${promotion(v)}</span>`) : ""}
${field("Uses", v.maxUses === null ? `${v.uses} (no limit)` : `${v.uses} of ${v.maxUses}`)}
${field("Session lifetime", v.sessionExpiry === null ? "the app's own" : v.sessionExpiry === 0 ? "until the browser closes" : `${v.sessionExpiry} seconds`)}
${field("Self-service", v.isSelfService ? "yes" : "no")}
${field("Id", v.id)}
</dl>
</section>
<section class="card" aria-labelledby="sharing-heading">
<h2 id="sharing-heading">Sharing signals</h2>
${sharingSection(view.sharing)}
</section>
</div>
<section class="card" aria-labelledby="link-heading">
<h2 id="link-heading">Link</h2>
${
  v.isUnclaimedRequest
    ? html`<p class="muted">No link: this is a self-service request whose form was never completed. Completing the form creates the pass, and its link is sent by email.</p>`
    : view.link === null
      ? html`<p class="muted">The link cannot be shown: only a digest of its token is stored (token storage "hash"). It was shown once, when the pass was created.</p>`
      : html`<details class="link"><summary>Show link</summary><label class="copy">Link to send<input type="text" readonly value="${view.link}" spellcheck="false" autocomplete="off"></label><p class="muted">Anyone with it can use the pass: copy it to send it, rather than opening it here.</p></details>`
}
</section>
<section class="card" aria-labelledby="context-heading">
<h2 id="context-heading">Context</h2>
${context === null ? html`<p class="muted">None.</p>` : html`<pre>${context}</pre>`}
</section>
<section class="card" aria-labelledby="chart-heading">
<h2 id="chart-heading">Visits, last 30 days</h2>
${visitsChart(view.chart, { id: "pass-chart", caption: "Visits per day to this pass, last 30 days" })}
</section>
<section class="card" aria-labelledby="visits-heading">
<h2 id="visits-heading">Visits</h2>
${visitsTable(view)}
<p><a href="${frame.mount}/logs?pass=${v.id}">This pass in the visit log</a></p>
</section>`;
  return document(frame, heading, body);
}

export function sharingPage(view: SharingView): string {
  const { frame, params } = view;
  const base = `${frame.mount}/sharing`;
  const rows = view.rows.map(
    (s) => html`<tr>
<td>${s.flagged ? html`<span class="badge warn">Flagged</span>` : html`<span class="badge">No</span>`}</td>
<td class="wrap email"><a href="${passPath(frame.mount, s.visitorId)}">${s.email || "(no email yet)"}</a></td>
<td class="wrap">${s.scope}</td>
<td class="num">${s.visits}</td>
<td class="num">${s.sessions}</td>
<td class="num">${s.networks}</td>
<td class="num">${s.browsers}</td>
<td class="nowrap">${when(s.firstVisit)}<span class="sub">to ${when(s.lastVisit)}</span></td>
<td>${s.reasons.length ? html`<ul class="reasons">${s.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : html`<span class="muted">—</span>`}${uncountedVisits(s).map((n) => html`<span class="sub">${n}</span>`)}</td>
</tr>`,
  );
  const first = (params.page - 1) * view.pageSize;
  const summary = view.rows.length
    ? `Page ${params.page} · ${first + 1}–${first + view.rows.length}`
    : `Page ${params.page}`;
  const body = html`<h1>Sharing</h1>
<p class="lede">Passes whose link may have been passed on: visits from several sessions, networks or browsers. Flagged passes first.</p>
<section class="card">
<form class="filters short" method="get" action="${base}" role="search">
<label>Scope<input type="text" name="scope" value="${params.scope}" maxlength="100"></label>
<label class="check"><input type="checkbox" name="flagged" value="yes"${params.flagged ? html` checked` : ""}>Flagged only</label>
<div class="buttons"><button type="submit">Filter</button>${params.scope || params.flagged ? html`<a href="${base}">Clear</a>` : ""}</div>
</form>
<div class="table-wrap"><table class="data sharing">
<caption class="visually-hidden">Sharing signals per pass, flagged first</caption>
<thead><tr><th scope="col">Flagged</th><th scope="col">Email</th><th scope="col">Scope</th><th scope="col" class="num">Visits</th><th scope="col" class="num">Sessions</th><th scope="col" class="num">Networks</th><th scope="col" class="num">Browsers</th><th scope="col">First and last visit</th><th scope="col">Reasons</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="9" class="empty">${params.page > 1 ? "Nothing on this page." : "No visited passes to report on."}</td></tr>`}</tbody>
</table></div>
${pager(
  params.page > 1 ? `${base}${sharingQuery(params, { page: params.page - 1 })}` : null,
  view.hasMore ? `${base}${sharingQuery(params, { page: params.page + 1 })}` : null,
  summary,
  "Sharing report pages",
)}
</section>`;
  return document(frame, "Sharing", body);
}

const REASONS: Record<OutboxEntry["reason"], string> = {
  freshLink: "Fresh link",
  selfService: "Self-service",
};

/** The development outbox: the links handed to `sendLink`, newest first. */
export function outboxPage(frame: Frame, entries: readonly OutboxEntry[]): string {
  const rows = entries.map(
    (entry) => html`<tr>
<td class="nowrap">${when(entry.at)}</td>
<td class="wrap email">${entry.to}</td>
<td>${REASONS[entry.reason] ?? entry.reason}</td>
<td class="anywhere"><a href="${entry.url}" rel="noreferrer">${entry.url}</a></td>
</tr>`,
  );
  const body = html`<h1>Outbox</h1>
<p class="lede">The links sent to visitors (or that would have been, with no <code>sendLink</code> set), newest first. Development only: this page exists while the <code>outbox</code> option is on, and the list lives in this process's memory.</p>
<section class="card">
<div class="table-wrap"><table class="data outbox">
<caption class="visually-hidden">Links sent, newest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">To</th><th scope="col">Reason</th><th scope="col">Link</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4" class="empty">No links sent yet.</td></tr>`}</tbody>
</table></div>
</section>`;
  return document(frame, "Outbox", body);
}
