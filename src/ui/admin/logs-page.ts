import type { LogEntry } from "../../core/ports.js";
import { type LogParams, logQuery } from "../../features/admin/log-query.js";
import { html } from "../html.js";
import { document, type Frame, pager, passPath, when } from "./admin-pages.js";

export interface LogsView {
  frame: Frame;
  params: LogParams;
  logs: readonly LogEntry[];
  /** Where the next (older) page starts, or `null` on the last. */
  next: string | null;
}

/** The visit-log list across every pass: filters, then the newest visits, a page at a time. */
export function logsPage(view: LogsView): string {
  const { frame, params } = view;
  const base = `${frame.mount}/logs`;
  const filtered = Boolean(
    params.scope || params.pass || params.from || params.to || params.status,
  );
  const rows = view.logs.map(
    (log) => html`<tr>
<td class="nowrap">${when(log.timestamp)}</td>
<td class="wrap email"><a href="${passPath(frame.mount, log.visitorId)}">${log.email || "(no email yet)"}</a></td>
<td class="wrap">${log.scope}</td>
<td class="anywhere">${log.httpMethod === "GET" ? "" : `${log.httpMethod} `}${log.queryString ? `${log.requestUri}?${log.queryString}` : log.requestUri}</td>
<td class="num">${log.statusCode ?? "—"}</td>
<td class="nowrap">${log.remoteAddr ?? "—"}</td>
<td class="wrap long">${log.httpUserAgent ?? "—"}</td>
</tr>`,
  );
  const summary = `${view.logs.length} visit${view.logs.length === 1 ? "" : "s"} on this page · newest first · times in UTC`;
  const body = html`<h1>Visit logs</h1>
<p class="lede">Every guarded visit, across all passes, newest first.</p>
<section class="card">
<form class="filters" method="get" action="${base}" role="search">
<label>Scope<input type="text" name="scope" value="${params.scope}" maxlength="100"></label>
<label>Pass<input type="text" name="pass" value="${params.pass}" placeholder="Pass id or email" maxlength="254"></label>
<label>From<input type="date" name="from" value="${params.from}"></label>
<label>To<input type="date" name="to" value="${params.to}"></label>
<label>Status<input type="text" name="status" value="${params.status}" inputmode="numeric" pattern="[1-5][0-9]{2}" maxlength="3" placeholder="e.g. 200"></label>
<div class="buttons"><button type="submit">Filter</button>${filtered ? html`<a href="${base}">Clear</a>` : ""}</div>
</form>
<div class="table-wrap"><table class="data logs">
<caption class="visually-hidden">Visits to every pass, newest first</caption>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">Pass</th><th scope="col">Scope</th><th scope="col">Path</th><th scope="col" class="num">Status</th><th scope="col">Address</th><th scope="col">User agent</th></tr></thead>
<tbody>${
    rows.length
      ? rows
      : html`<tr><td colspan="7" class="empty">${
          params.before
            ? html`No older visits. <a href="${base}${logQuery(params, { before: "" })}">Back to the newest</a>.`
            : filtered
              ? "No visits match these filters."
              : "No visits yet."
        }</td></tr>`
  }</tbody>
</table></div>
${pager(
  params.before ? `${base}${logQuery(params, { before: "" })}` : null,
  view.next ? `${base}${logQuery(params, { before: view.next })}` : null,
  summary,
  "Visit log pages",
)}
</section>`;
  return document(frame, "Visit logs", body);
}
